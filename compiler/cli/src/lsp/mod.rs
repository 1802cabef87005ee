//! `svcc lsp`: a language server over stdio, on the front-end library.
//!
//! One thread reads the protocol in order (rust-analyzer's `lsp-server`): every change
//! notification is applied, the workspace is compiled again (incrementally: unchanged files
//! keep their parse trees, unaffected packages their checks) and the diagnostics published
//! before the next message is read, so edits are never reordered and answers always see the
//! latest text. Documents are synchronised in full.

mod features;
mod text;
mod workspace;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use std::path::PathBuf;
use workspace::Workspace;

/// Serves until the client asks to shut down and exits; the error is for stderr.
pub fn run() -> Result<(), String> {
    let (connection, io) = Connection::stdio();
    let capabilities = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    let params = connection
        .initialize(capabilities)
        .map_err(|e| format!("the client did not initialize: {e}"))?;
    let params: lsp::InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("bad initialize params: {e}"))?;
    let mut ws = Workspace::new(root(&params));
    ws.analyse();
    publish(&connection, &mut ws)?;
    for msg in &connection.receiver {
        match msg {
            Message::Request(req) => {
                if connection
                    .handle_shutdown(&req)
                    .map_err(|e| e.to_string())?
                {
                    break;
                }
                // A bug in one answer must not end the session: it becomes an error response.
                let id = req.id.clone();
                let method = req.method.clone();
                let response =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answer(&ws, req)))
                        .unwrap_or_else(|_| {
                            Response::new_err(
                                id,
                                ErrorCode::InternalError as i32,
                                format!(
                                    "internal error answering `{method}`; this is a bug in svcc"
                                ),
                            )
                        });
                send(&connection, Message::Response(response))?;
            }
            Message::Notification(n) => {
                if changed(&mut ws, n) {
                    ws.analyse();
                    publish(&connection, &mut ws)?;
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    io.join().map_err(|e| e.to_string())
}

fn root(params: &lsp::InitializeParams) -> Option<PathBuf> {
    #[allow(deprecated)] // `root_uri` is what older clients send
    let uri = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| f.uri.clone())
        .or_else(|| params.root_uri.clone())?;
    text::path_of(&uri)
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::FULL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec!["@".into(), ":".into(), "\"".into(), " ".into()]),
            ..Default::default()
        }),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        workspace_symbol_provider: Some(lsp::OneOf::Left(true)),
        folding_range_provider: Some(lsp::FoldingRangeProviderCapability::Simple(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
                ..Default::default()
            },
        )),
        semantic_tokens_provider: Some(
            lsp::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lsp::SemanticTokensOptions {
                    legend: lsp::SemanticTokensLegend {
                        token_types: features::TOKEN_TYPES.to_vec(),
                        token_modifiers: Vec::new(),
                    },
                    full: Some(lsp::SemanticTokensFullOptions::Bool(true)),
                    range: None,
                    work_done_progress_options: Default::default(),
                },
            ),
        ),
        ..Default::default()
    }
}

fn send(c: &Connection, m: Message) -> Result<(), String> {
    c.sender
        .send(m)
        .map_err(|e| format!("the client went away: {e}"))
}

fn publish(c: &Connection, ws: &mut Workspace) -> Result<(), String> {
    for p in features::diagnostics(ws) {
        send(
            c,
            Message::Notification(Notification::new(
                lsp::notification::PublishDiagnostics::METHOD.to_string(),
                p,
            )),
        )?;
    }
    Ok(())
}

/// Applies a document notification; whether the workspace must be compiled again.
fn changed(ws: &mut Workspace, n: Notification) -> bool {
    use lsp::notification as note;
    let path = |uri: &lsp::Uri| text::path_of(uri);
    match n.method.as_str() {
        note::DidOpenTextDocument::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params) else {
                return false;
            };
            let Some(path) = path(&p.text_document.uri) else {
                return false;
            };
            ws.versions.insert(path.clone(), p.text_document.version);
            ws.overlay.open.insert(path, p.text_document.text);
            true
        }
        note::DidChangeTextDocument::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params) else {
                return false;
            };
            let Some(path) = path(&p.text_document.uri) else {
                return false;
            };
            // Full synchronisation: the last change holds the whole text.
            let Some(change) = p.content_changes.into_iter().last() else {
                return false;
            };
            ws.versions.insert(path.clone(), p.text_document.version);
            ws.overlay.open.insert(path, change.text);
            true
        }
        note::DidCloseTextDocument::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params) else {
                return false;
            };
            let Some(path) = path(&p.text_document.uri) else {
                return false;
            };
            ws.versions.remove(&path);
            ws.overlay.open.remove(&path).is_some()
        }
        // Saved or changed on disk (another tool, a branch switch).
        note::DidSaveTextDocument::METHOD | note::DidChangeWatchedFiles::METHOD => true,
        _ => false,
    }
}

fn answer(ws: &Workspace, req: Request) -> Response {
    use lsp::request as r;
    let id = req.id.clone();
    let ok = |v: serde_json::Value| Response::new_ok(id.clone(), v);
    let bad = |e: String| Response::new_err(id.clone(), ErrorCode::InvalidParams as i32, e);
    macro_rules! params {
        ($t:ty) => {
            match serde_json::from_value::<$t>(req.params) {
                Ok(p) => p,
                Err(e) => return bad(format!("{}: {e}", req.method)),
            }
        };
    }
    macro_rules! file {
        ($uri:expr) => {
            match text::path_of($uri) {
                Some(p) => p,
                None => return ok(serde_json::Value::Null),
            }
        };
    }
    let json =
        |v: Result<serde_json::Value, serde_json::Error>| v.unwrap_or(serde_json::Value::Null);
    match req.method.as_str() {
        r::HoverRequest::METHOD => {
            let p = params!(lsp::HoverParams);
            let f = file!(&p.text_document_position_params.text_document.uri);
            ok(json(serde_json::to_value(features::hover(
                ws,
                &f,
                p.text_document_position_params.position,
            ))))
        }
        r::GotoDefinition::METHOD => {
            let p = params!(lsp::GotoDefinitionParams);
            let f = file!(&p.text_document_position_params.text_document.uri);
            ok(json(serde_json::to_value(features::definition(
                ws,
                &f,
                p.text_document_position_params.position,
            ))))
        }
        r::References::METHOD => {
            let p = params!(lsp::ReferenceParams);
            let f = file!(&p.text_document_position.text_document.uri);
            ok(json(serde_json::to_value(features::references(
                ws,
                &f,
                p.text_document_position.position,
                p.context.include_declaration,
            ))))
        }
        r::PrepareRenameRequest::METHOD => {
            let p = params!(lsp::TextDocumentPositionParams);
            let f = file!(&p.text_document.uri);
            ok(json(serde_json::to_value(features::prepare_rename(
                ws, &f, p.position,
            ))))
        }
        r::Rename::METHOD => {
            let p = params!(lsp::RenameParams);
            let f = file!(&p.text_document_position.text_document.uri);
            match features::rename(ws, &f, p.text_document_position.position, &p.new_name) {
                Ok(edit) => ok(json(serde_json::to_value(edit))),
                Err(e) => Response::new_err(id.clone(), ErrorCode::RequestFailed as i32, e),
            }
        }
        r::Completion::METHOD => {
            let p = params!(lsp::CompletionParams);
            let f = file!(&p.text_document_position.text_document.uri);
            ok(json(serde_json::to_value(features::completion(
                ws,
                &f,
                p.text_document_position.position,
            ))))
        }
        r::Formatting::METHOD => {
            let p = params!(lsp::DocumentFormattingParams);
            let f = file!(&p.text_document.uri);
            ok(json(serde_json::to_value(features::formatting(ws, &f))))
        }
        r::DocumentSymbolRequest::METHOD => {
            let p = params!(lsp::DocumentSymbolParams);
            let f = file!(&p.text_document.uri);
            ok(json(serde_json::to_value(features::document_symbols(
                ws, &f,
            ))))
        }
        r::WorkspaceSymbolRequest::METHOD => {
            let p = params!(lsp::WorkspaceSymbolParams);
            ok(json(serde_json::to_value(features::workspace_symbols(
                ws, &p.query,
            ))))
        }
        r::FoldingRangeRequest::METHOD => {
            let p = params!(lsp::FoldingRangeParams);
            let f = file!(&p.text_document.uri);
            let text = ws.text(&f).unwrap_or_default();
            ok(json(serde_json::to_value(features::folding(&text))))
        }
        r::CodeActionRequest::METHOD => {
            let p = params!(lsp::CodeActionParams);
            let f = file!(&p.text_document.uri);
            ok(json(serde_json::to_value(features::code_actions(
                ws, &f, p.range,
            ))))
        }
        r::SemanticTokensFullRequest::METHOD => {
            let p = params!(lsp::SemanticTokensParams);
            let f = file!(&p.text_document.uri);
            ok(json(serde_json::to_value(lsp::SemanticTokens {
                result_id: None,
                data: features::semantic_tokens(ws, &f),
            })))
        }
        other => Response::new_err(
            id,
            ErrorCode::MethodNotFound as i32,
            format!("`{other}` is not supported"),
        ),
    }
}
