//! `svcc lsp` driven as an editor drives it: a real session over the binary's stdin and
//! stdout (Content-Length framing), on a workspace of two files where one imports the other.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const COMMON: &str = "package shop.common.v1;

/// Money in cents.
type Money {
  cents @1: int64;
}
";

const ORDERS: &str = "@jsonrpc
package shop.orders.v1;

import \"common.svc\";

/// How an order stands.
enum State {
  Open @1;
  Closed @2;
}

/// An order.
type Order {
  id @1: string;
  total @2: Money;
  state @3: State = Open;
}

/// Orders.
service Orders {
  /// One order.
  rpc get(id: string) -> Order;
}
";

struct Session {
    child: Child,
    stdin: ChildStdin,
    incoming: mpsc::Receiver<Value>,
    next_id: i64,
    /// Notifications read while waiting for a response.
    notes: Vec<Value>,
    dir: PathBuf,
    /// The last version sent of each open document.
    versions: std::collections::HashMap<String, i32>,
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

impl Session {
    fn start(name: &str) -> Session {
        let dir = std::env::temp_dir().join(format!("svcc-lsp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let dir = dir.canonicalize().unwrap();
        std::fs::write(dir.join("common.svc"), COMMON).unwrap();
        std::fs::write(dir.join("orders.svc"), ORDERS).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_svcc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut s = Session {
            child,
            stdin,
            incoming,
            next_id: 1,
            notes: Vec::new(),
            dir,
            versions: Default::default(),
        };
        let root = uri(&s.dir);
        s.request(
            "initialize",
            json!({ "processId": null, "rootUri": root, "capabilities": {} }),
        );
        s.notify("initialized", json!({}));
        s
    }

    fn send(&mut self, msg: Value) {
        let body = serde_json::to_vec(&msg).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn recv(&mut self) -> Value {
        self.incoming
            .recv_timeout(Duration::from_secs(30))
            .expect("the server answers")
    }

    /// The response's `result`; a protocol error panics with its message.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.try_request(method, params)
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    fn try_request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let msg = self.recv();
            if msg["id"] == json!(id) {
                return match msg.get("error") {
                    Some(e) => Err(e.clone()),
                    None => Ok(msg["result"].clone()),
                };
            }
            self.notes.push(msg);
        }
    }

    /// The diagnostics published for the last version sent of `file`.
    fn diagnostics(&mut self, file: &str) -> Vec<Value> {
        let want = uri(&self.dir.join(file));
        let version = self.versions.get(file).copied();
        let is = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == want
                && m["params"]["version"] == json!(version)
        };
        if let Some(i) = self.notes.iter().position(is) {
            let m = self.notes.remove(i);
            return m["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let m = self.recv();
            if is(&m) {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }

    fn path(&self, file: &str) -> String {
        uri(&self.dir.join(file))
    }

    fn open(&mut self, file: &str, text: &str) {
        self.versions.insert(file.to_string(), 1);
        let u = self.path(file);
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": u, "languageId": "svc", "version": 1, "text": text } }),
        );
    }

    fn change(&mut self, file: &str, version: i32, text: &str) {
        self.versions.insert(file.to_string(), version);
        let u = self.path(file);
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// `textDocument/X` at the position of `needle` (+ `delta` characters) in `text`.
    fn at(
        &mut self,
        method: &str,
        file: &str,
        text: &str,
        needle: &str,
        delta: u32,
        extra: Value,
    ) -> Value {
        let offset = text.find(needle).unwrap();
        let line = text[..offset].matches('\n').count();
        let col = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + delta as usize;
        let mut params = json!({
            "textDocument": { "uri": self.path(file) },
            "position": { "line": line, "character": col },
        });
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                p.insert(k.clone(), v.clone());
            }
        }
        self.request(method, params)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn diagnostics_as_you_type_with_codes_help_and_related_locations() {
    let mut s = Session::start("diag");
    s.open("orders.svc", ORDERS);
    // A typo: the same error as `svcc check`, with its code and the did-you-mean help.
    let typo = ORDERS.replace("total @2: Money;", "total @2: Mony;");
    s.change("orders.svc", 2, &typo);
    let d = s.diagnostics("orders.svc");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0]["code"], "E0102");
    assert_eq!(d[0]["source"], "svcc");
    assert_eq!(d[0]["severity"], 1);
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot find type `Mony`")
    );
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `Money`?")
    );
    assert_eq!(
        d[0]["range"]["start"],
        json!({ "line": 14, "character": 12 })
    );
    // The code links to what `svcc explain E0102` prints.
    let href = d[0]["codeDescription"]["href"].as_str().unwrap();
    let page = std::fs::read_to_string(href.strip_prefix("file://").unwrap()).unwrap();
    assert!(page.contains("E0102: cannot find a name"), "{page}");
    // A duplicate field points at the first one too.
    let dup = ORDERS.replace(
        "state @3: State = Open;",
        "state @3: State = Open;\n  id @4: string;",
    );
    s.change("orders.svc", 3, &dup);
    let d = s.diagnostics("orders.svc");
    let dup = d.iter().find(|d| d["code"] == "E0200").unwrap();
    assert_eq!(
        dup["relatedInformation"][0]["location"]["uri"],
        s.path("orders.svc")
    );
    // Fixed: published empty.
    s.change("orders.svc", 4, ORDERS);
    assert!(s.diagnostics("orders.svc").is_empty());
}

#[test]
fn hover_definition_references_across_files() {
    let mut s = Session::start("nav");
    s.open("orders.svc", ORDERS);
    let h = s.at(
        "textDocument/hover",
        "orders.svc",
        ORDERS,
        "Money;",
        1,
        json!({}),
    );
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.contains("type Money") && v.contains("cents @1: int64") && v.contains("Money in cents"),
        "{v}"
    );
    // An annotation: its meaning and arguments.
    let h = s.at(
        "textDocument/hover",
        "orders.svc",
        ORDERS,
        "@jsonrpc",
        2,
        json!({}),
    );
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("JSON-RPC"),
        "{h}"
    );
    // A field: its type and tag.
    let h = s.at(
        "textDocument/hover",
        "orders.svc",
        ORDERS,
        "state @3",
        1,
        json!({}),
    );
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("state @3: State"),
        "{h}"
    );
    // Definition in the other file.
    let d = s.at(
        "textDocument/definition",
        "orders.svc",
        ORDERS,
        "Money;",
        0,
        json!({}),
    );
    assert_eq!(d["uri"], s.path("common.svc"));
    assert_eq!(d["range"]["start"]["line"], 3);
    // The import's path opens the file.
    let d = s.at(
        "textDocument/definition",
        "orders.svc",
        ORDERS,
        "common.svc",
        2,
        json!({}),
    );
    assert_eq!(d["uri"], s.path("common.svc"));
    // References from the declaration: the use in the other file.
    let r = s.at(
        "textDocument/references",
        "common.svc",
        COMMON,
        "Money {",
        1,
        json!({ "context": { "includeDeclaration": true } }),
    );
    let files: Vec<&str> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["uri"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{r}");
    assert!(files.contains(&s.path("orders.svc").as_str()));
}

#[test]
fn completion_rename_formatting_symbols_folding_tokens_and_quick_fixes() {
    let mut s = Session::start("edit");
    s.open("orders.svc", ORDERS);
    // Types in scope after `:`.
    let typing = ORDERS.replace("id @1: string;", "id @1: string;\n  note @9: ");
    s.change("orders.svc", 2, &typing);
    let c = s.at(
        "textDocument/completion",
        "orders.svc",
        &typing,
        "note @9: ",
        9,
        json!({}),
    );
    let labels = completion_labels(&c);
    for want in ["string", "State", "Order", "shop.common.v1.Money"] {
        assert!(labels.contains(&want), "{want} in {labels:?}");
    }
    // Annotations after `@`, with their summary.
    let typing = ORDERS.replace("/// An order.\n", "/// An order.\n@dep\n");
    s.change("orders.svc", 3, &typing);
    let c = s.at(
        "textDocument/completion",
        "orders.svc",
        &typing,
        "@dep",
        4,
        json!({}),
    );
    let labels = completion_labels(&c);
    // Only what a record may carry: `@topic` stands on events, `@query` on parameters.
    assert!(
        labels.contains(&"@deprecated") && labels.contains(&"@omitempty"),
        "{labels:?}"
    );
    assert!(
        !labels.contains(&"@topic") && !labels.contains(&"@query"),
        "{labels:?}"
    );
    let args = completion_item(&c, "@omitempty");
    assert!(
        args["documentation"]["value"]
            .as_str()
            .unwrap()
            .contains("enabled"),
        "{args}"
    );
    // Completing one inserts its required arguments as placeholders.
    let typing = ORDERS.replace("  /// One order.\n", "  /// One order.\n  @ra\n");
    s.change("orders.svc", 30, &typing);
    let c = s.at(
        "textDocument/completion",
        "orders.svc",
        &typing,
        "@ra",
        3,
        json!({}),
    );
    let rate = completion_item(&c, "@rate_limit");
    assert_eq!(
        rate["insertText"],
        "rate_limit(limit = ${1:limit}, period = ${2:period})"
    );
    assert_eq!(rate["insertTextFormat"], 2);
    // In a method's parentheses: parameters' annotations.
    let typing = ORDERS.replace("rpc get(id: string)", "rpc get(@q id: string)");
    s.change("orders.svc", 31, &typing);
    let c = s.at(
        "textDocument/completion",
        "orders.svc",
        &typing,
        "@q id",
        2,
        json!({}),
    );
    let labels = completion_labels(&c);
    assert!(
        labels.contains(&"@query") && !labels.contains(&"@omitempty"),
        "{labels:?}"
    );
    // Enum values in a default.
    let typing = ORDERS.replace("= Open;", "= ");
    s.change("orders.svc", 4, &typing);
    let c = s.at(
        "textDocument/completion",
        "orders.svc",
        &typing,
        "State = ",
        8,
        json!({}),
    );
    let labels = completion_labels(&c);
    assert_eq!(labels, ["Open", "Closed"]);
    // Import paths.
    let typing = ORDERS.replace("import \"common.svc\";", "import \"");
    s.change("orders.svc", 5, &typing);
    let c = s.at(
        "textDocument/completion",
        "orders.svc",
        &typing,
        "import \"",
        8,
        json!({}),
    );
    assert!(
        c.as_array()
            .unwrap()
            .iter()
            .any(|i| i["label"] == "common.svc"),
        "{c}"
    );
    s.change("orders.svc", 6, ORDERS);

    // Rename across files; a clashing name is refused.
    let e = s.at(
        "textDocument/rename",
        "common.svc",
        COMMON,
        "Money {",
        0,
        json!({ "newName": "Amount" }),
    );
    let changes = e["changes"].as_object().unwrap();
    assert_eq!(changes[&s.path("common.svc")][0]["newText"], "Amount");
    assert_eq!(changes[&s.path("orders.svc")].as_array().unwrap().len(), 1);
    let text = ORDERS.to_string();
    let offset = text.find("State = Open").unwrap();
    let line = text[..offset].matches('\n').count();
    let col = offset - text[..offset].rfind('\n').unwrap() - 1;
    let refused = s.try_request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": s.path("orders.svc") }, "position": { "line": line, "character": col }, "newName": "Order" }),
    );
    assert!(
        refused.unwrap_err()["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );

    // Formatting: the same formatter as `svcc fmt`.
    let messy = ORDERS.replace("  id @1: string;", "id    @1:string;");
    s.change("orders.svc", 7, &messy);
    let edits = s.request("textDocument/formatting", json!({ "textDocument": { "uri": s.path("orders.svc") }, "options": { "tabSize": 2, "insertSpaces": true } }));
    assert_eq!(
        edits[0]["newText"].as_str().unwrap(),
        svcc_frontend::fmt::format_source(&messy).unwrap()
    );
    s.change("orders.svc", 8, ORDERS);

    // Document and workspace symbols.
    let syms = s.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": s.path("orders.svc") } }),
    );
    let names: Vec<&str> = syms
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["State", "Order", "Orders"]);
    let order = &syms[1];
    let fields: Vec<&str> = order["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["id", "total", "state"]);
    assert_eq!(syms[2]["children"][0]["name"], "get");
    let found = s.request("workspace/symbol", json!({ "query": "mon" }));
    assert_eq!(found[0]["name"], "Money");
    assert_eq!(found[0]["containerName"], "shop.common.v1");

    // Folding: the blocks.
    let folds = s.request(
        "textDocument/foldingRange",
        json!({ "textDocument": { "uri": s.path("orders.svc") } }),
    );
    assert!(
        folds
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["startLine"] == 12 && f["endLine"] == 16),
        "{folds}"
    );

    // Semantic tokens: keywords, types, annotations.
    let tokens = s.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": s.path("orders.svc") } }),
    );
    let data = tokens["data"].as_array().unwrap();
    assert_eq!(data.len() % 5, 0);
    // The first token is `@jsonrpc` (a decorator, type index 2) at 0:0, 8 long.
    assert_eq!(
        &data[..5],
        &[json!(0), json!(0), json!(8), json!(2), json!(0)]
    );

    // Quick fix: did-you-mean.
    let typo = ORDERS.replace("total @2: Money;", "total @2: Mony;");
    s.change("orders.svc", 9, &typo);
    let _ = s.diagnostics("orders.svc");
    let offset = typo.find("Mony").unwrap();
    let line = typo[..offset].matches('\n').count();
    let col = offset - typo[..offset].rfind('\n').unwrap() - 1;
    let range = json!({ "start": { "line": line, "character": col }, "end": { "line": line, "character": col + 4 } });
    let actions = s.request("textDocument/codeAction", json!({ "textDocument": { "uri": s.path("orders.svc") }, "range": range, "context": { "diagnostics": [] } }));
    let fix = &actions[0];
    assert_eq!(fix["title"], "Replace with `Money`");
    assert_eq!(
        fix["edit"]["changes"][&s.path("orders.svc")][0]["newText"],
        "Money"
    );

    // Quick fix: a missing import.
    let unimported = ORDERS.replace("import \"common.svc\";\n", "");
    s.change("orders.svc", 10, &unimported);
    let _ = s.diagnostics("orders.svc");
    let actions = s.request("textDocument/codeAction", json!({ "textDocument": { "uri": s.path("orders.svc") }, "range": range_of(&unimported, "Money;", 5), "context": { "diagnostics": [] } }));
    let fix = &actions[0];
    assert_eq!(
        fix["title"],
        "Import `common.svc` (declares `shop.common.v1.Money`)"
    );
    let edit = &fix["edit"]["changes"][&s.path("orders.svc")][0];
    assert_eq!(edit["newText"], "\nimport \"common.svc\";\n");
    assert_eq!(edit["range"]["start"]["line"], 2);

    // Quick fix: a missing tag on a protobuf wire (lints run once the workspace has no error).
    s.change("orders.svc", 11, ORDERS);
    let grpc = "@grpc\npackage shop.tags.v1;\n\n/// A.\ntype A {\n  /// B.\n  b: string;\n}\n\n/// S.\nservice S {\n  /// M.\n  rpc m() -> A;\n}\n";
    s.open("tags.svc", grpc);
    let d = s.diagnostics("tags.svc");
    assert!(d.iter().any(|d| d["code"] == "implicit_tag"), "{d:#?}");
    let actions = s.request("textDocument/codeAction", json!({ "textDocument": { "uri": s.path("tags.svc") }, "range": range_of(grpc, "b: string", 1), "context": { "diagnostics": [] } }));
    assert_eq!(actions[0]["title"], "Write the tag `@1`");
    assert_eq!(
        actions[0]["edit"]["changes"][&s.path("tags.svc")][0]["newText"],
        " @1"
    );
}

/// The LSP range of `len` characters at `needle` in `text`.
/// The labels of a completion list.
fn completion_labels(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect()
}

/// The completion item labelled `label`.
fn completion_item<'a>(items: &'a Value, label: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == label)
        .unwrap_or_else(|| panic!("no completion `{label}` in {items}"))
}

fn range_of(text: &str, needle: &str, len: usize) -> Value {
    let offset = text.find(needle).unwrap();
    let line = text[..offset].matches('\n').count();
    let col = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
    json!({ "start": { "line": line, "character": col }, "end": { "line": line, "character": col + len } })
}

#[test]
fn keeps_helping_in_a_file_with_a_syntax_error() {
    let mut s = Session::start("broken");
    s.open("orders.svc", ORDERS);
    // Mid-edit: a field without its semicolon.
    let broken = ORDERS.replace("id @1: string;", "id @1: string");
    s.change("orders.svc", 2, &broken);
    let d = s.diagnostics("orders.svc");
    assert_eq!(d[0]["code"], "E0001", "{d:#?}");
    // Hover and definition still answer from the last good compilation.
    let h = s.at(
        "textDocument/hover",
        "orders.svc",
        &broken,
        "Money;",
        1,
        json!({}),
    );
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("type Money"),
        "{h}"
    );
    let d = s.at(
        "textDocument/definition",
        "orders.svc",
        &broken,
        "Money;",
        0,
        json!({}),
    );
    assert_eq!(d["uri"], s.path("common.svc"));
    // Completion too.
    let c = s.at(
        "textDocument/completion",
        "orders.svc",
        &broken,
        "Money;",
        0,
        json!({}),
    );
    assert!(c.as_array().unwrap().iter().any(|i| i["label"] == "State"));
    // A word right after a multi-byte character (the position clamps to the line's end).
    let accented = ORDERS.replace("/// One order.", "/// Größe");
    s.change("orders.svc", 3, &accented);
    let c = s.at(
        "textDocument/completion",
        "orders.svc",
        &accented,
        "ße",
        20,
        json!({}),
    );
    assert!(
        c.as_array().unwrap().iter().any(|i| i["label"] == "State"),
        "{c}"
    );
    // Unknown requests get a clear error, and shutdown ends the session.
    let e = s
        .try_request("textDocument/inlayHint", json!({}))
        .unwrap_err();
    assert_eq!(e["code"], -32601);
    assert_eq!(s.request("shutdown", Value::Null), Value::Null);
    s.notify("exit", Value::Null);
    let status = s.child.wait().unwrap();
    assert!(status.success());
}
