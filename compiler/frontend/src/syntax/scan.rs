//! A lexical pass over a file before the grammar runs.
//!
//! It finds what the grammar cannot report well — NUL bytes, unterminated strings and block
//! comments, absurd nesting — and collects plain comments for the formatter. It also offers a
//! small tokenizer used only to word syntax errors (the token before and at an error).

use super::diagnostics as diag;
use crate::syntax::ast::Comment;
use svcc_model::Diagnostic;
use svcc_model::source::{FileId, Span};

/// Deepest bracket nesting accepted; far beyond any real contract, far below a stack overflow.
pub const MAX_NESTING: usize = 64;

/// Result of the pre-scan.
#[derive(Debug, Default)]
pub struct Scan {
    pub comments: Vec<Comment>,
    pub errors: Vec<Diagnostic>,
}

pub fn prescan(file: FileId, text: &str) -> Scan {
    let bytes = text.as_bytes();
    let mut out = Scan::default();
    let mut i = 0;
    let mut stack: Vec<(u8, usize)> = Vec::new();
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            0 => {
                out.errors.push(diag::nul_byte(Span::new(file, i, i + 1)));
                return out;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                let is_doc = matches!(bytes.get(i + 2), Some(b'!'))
                    || (bytes.get(i + 2) == Some(&b'/') && bytes.get(i + 3) != Some(&b'/'));
                if let Some(nul) = text[i..end].find('\0') {
                    out.errors
                        .push(diag::nul_byte(Span::new(file, i + nul, i + nul + 1)));
                    return out;
                }
                if !is_doc {
                    out.comments.push(Comment {
                        text: text[i..end].trim_end().to_string(),
                        span: Span::new(file, i, end),
                    });
                }
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                Some(n) => {
                    let end = i + 2 + n + 2;
                    if let Some(nul) = text[i..end].find('\0') {
                        out.errors
                            .push(diag::nul_byte(Span::new(file, i + nul, i + nul + 1)));
                        return out;
                    }
                    out.comments.push(Comment {
                        text: text[i..end].to_string(),
                        span: Span::new(file, i, end),
                    });
                    i = end;
                }
                None => {
                    out.errors
                        .push(diag::unterminated_comment(Span::new(file, i, i + 2)));
                    return out;
                }
            },
            b'"' => {
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        None | Some(b'\n') => {
                            let line_end = if j > i + 1 && bytes.get(j - 1) == Some(&b'\r') {
                                j - 1
                            } else {
                                j
                            };
                            out.errors
                                .push(diag::unterminated_string(Span::new(file, i, line_end)));
                            return out;
                        }
                        Some(b'\\') => {
                            // An escape covers the next character, never a line break.
                            j += 1;
                            if let Some(c) = text[j..].chars().next()
                                && c != '\n'
                            {
                                j += c.len_utf8();
                            }
                        }
                        Some(b'"') => break,
                        Some(0) => {
                            out.errors.push(diag::nul_byte(Span::new(file, j, j + 1)));
                            return out;
                        }
                        Some(_) => j += 1,
                    }
                }
                i = j + 1;
            }
            b'(' | b'[' | b'{' | b'<' => {
                stack.push((b, i));
                if stack.len() > MAX_NESTING {
                    out.errors.push(diag::nesting_too_deep(
                        Span::new(file, i, i + 1),
                        MAX_NESTING,
                    ));
                    return out;
                }
                i += 1;
            }
            b')' | b']' | b'}' | b'>' => {
                // Mismatches are the grammar's business; only depth matters here.
                stack.pop();
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// A token, for wording syntax errors only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokKind {
    Ident,
    Number,
    Str,
    Punct,
    Doc,
}

#[derive(Clone, Copy, Debug)]
pub struct Tok {
    pub kind: TokKind,
    pub start: usize,
    pub end: usize,
}

/// Tokenizes `text` (skipping whitespace and plain comments). Tolerant: never fails.
pub fn tokens(text: &str) -> Vec<Tok> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        if b.is_ascii_whitespace() || b == 0 {
            i += 1;
            continue;
        }
        if bytes[i..].starts_with(&[0xEF, 0xBB, 0xBF]) {
            i += 3;
            continue;
        }
        if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            let end = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            let is_doc = matches!(bytes.get(i + 2), Some(b'!'))
                || (bytes.get(i + 2) == Some(&b'/') && bytes.get(i + 3) != Some(&b'/'));
            if is_doc {
                out.push(Tok {
                    kind: TokKind::Doc,
                    start,
                    end,
                });
            }
            i = end;
            continue;
        }
        if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i = text[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |n| i + 2 + n + 2);
            continue;
        }
        let kind = if b.is_ascii_alphabetic() || b == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            TokKind::Ident
        } else if b.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                i += 1;
            }
            TokKind::Number
        } else if b == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            TokKind::Str
        } else if b == b'-' && bytes.get(i + 1) == Some(&b'>') {
            i += 2;
            TokKind::Punct
        } else {
            // One character (which may be several bytes).
            i += text[i..].chars().next().map_or(1, char::len_utf8);
            TokKind::Punct
        };
        out.push(Tok {
            kind,
            start,
            end: i.min(bytes.len()),
        });
    }
    out
}
