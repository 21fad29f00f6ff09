//! The LSP server: translates between LSP messages and the compiler's salsa database.
//!
//! State: one [`Database`] behind a mutex, and the open documents (URI to path). An edit sets
//! the file's text in the database (`Database::set_file`); salsa then re-runs only the queries
//! that read it. Diagnostics are pushed after every open and change.
//!
//! Robustness: every request and notification runs inside `catch_unwind`; a panic becomes a
//! JSON-RPC internal error (or a log message for a notification), never a dead server. The
//! mutex is used through [`lock`], which recovers from poisoning.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, PoisonError};

use biscol_compiler::db::{self, SourceFile};
use biscol_compiler::diagnostic::codes;
use biscol_compiler::{Database, Severity, Span};
use biscol_loader::DiskLoader;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::analysis::{self, CompletionKind, DefKind};
use crate::line_index::LineIndex;

/// Where the long explanations of diagnostic codes are published.
pub const EXPLAIN_URL: &str =
    "https://example.invalid/biscol/blob/main/compiler/src/diagnostic/explain";

/// The server's state.
pub struct State {
    /// The compiler's database.
    pub db: Database,
    /// Open documents: URI to the path used in the database.
    pub docs: BTreeMap<String, String>,
}

/// The language server.
pub struct Backend {
    client: Client,
    state: Mutex<State>,
}

/// Locks the state, recovering it if a panicking request poisoned the mutex.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The database path for a URI: the file system path of a `file:` URI, else the URI itself.
pub fn uri_to_path(uri: &str) -> String {
    match uri.strip_prefix("file://") {
        Some(rest) => percent_decode(rest),
        None => uri.to_string(),
    }
}

/// The URI for a database path.
pub fn path_to_uri(path: &str) -> String {
    if path.contains("://") || path.starts_with("untitled:") {
        return path.to_string();
    }
    let mut out = String::from("file://");
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn internal(message: String) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: message.into(),
        data: None,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

fn parse_uri(s: &str) -> Option<Uri> {
    s.parse().ok()
}

/// An LSP range for a span of `text`.
pub fn range(index: &LineIndex<'_>, span: Span) -> Range {
    let (sl, sc) = index.position(span.start as usize);
    let (el, ec) = index.position(span.end as usize);
    Range::new(Position::new(sl, sc), Position::new(el, ec))
}

impl Backend {
    /// A server talking to `client`.
    pub fn new(client: Client) -> Backend {
        Backend {
            client,
            state: Mutex::new(State {
                db: Database::new(),
                docs: BTreeMap::new(),
            }),
        }
    }

    /// Runs `f` on the state and the file of `uri`, turning a panic into an error response.
    fn with_file<T>(
        &self,
        uri: &Uri,
        f: impl FnOnce(&State, SourceFile) -> Option<T>,
    ) -> Result<Option<T>> {
        let guard = lock(&self.state);
        let state: &State = &guard;
        catch_unwind(AssertUnwindSafe(|| {
            let path = state
                .docs
                .get(uri.as_str())
                .cloned()
                .unwrap_or_else(|| uri_to_path(uri.as_str()));
            let file = state.db.file(&path)?;
            f(state, file)
        }))
        .map_err(|p| internal(format!("internal error: {}", panic_message(&*p))))
    }

    /// Sets a document's text and returns the diagnostics to publish, for it and for the
    /// other open documents (which may import it).
    fn update(&self, uri: &Uri, text: String) -> Vec<(Uri, Vec<Diagnostic>)> {
        let mut guard = lock(&self.state);
        let state: &mut State = &mut guard;
        let result = catch_unwind(AssertUnwindSafe(|| {
            let path = uri_to_path(uri.as_str());
            state.docs.insert(uri.as_str().to_string(), path.clone());
            state.db.set_file(&path, text);
            state.db.load_imports(&DiskLoader::new());
            let mut out = Vec::new();
            for (doc_uri, doc_path) in &state.docs {
                if doc_path != &path && state.docs.len() > 8 {
                    continue;
                }
                let (Some(file), Some(u)) = (state.db.file(doc_path), parse_uri(doc_uri)) else {
                    continue;
                };
                out.push((u, to_lsp_diagnostics(&state.db, file)));
            }
            out
        }));
        result.unwrap_or_default()
    }

    async fn publish(&self, batches: Vec<(Uri, Vec<Diagnostic>)>) {
        for (uri, diags) in batches {
            self.client.publish_diagnostics(uri, diags, None).await;
        }
    }
}

/// The diagnostics of `file` as LSP diagnostics: code, code description, related
/// information for secondary labels; notes and help appended to the message.
pub fn to_lsp_diagnostics(db: &Database, file: SourceFile) -> Vec<Diagnostic> {
    let text = file.text(db);
    let index = LineIndex::new(text);
    let id = file.id(db);
    let mut texts: BTreeMap<biscol_compiler::FileId, (String, String)> = BTreeMap::new();
    db::all_diagnostics(db, file)
        .iter()
        .filter(|d| d.primary.span.file == id)
        .map(|d| {
            let mut message = d.message.clone();
            if !d.primary.message.is_empty() {
                message.push_str(&format!(": {}", d.primary.message));
            }
            for n in &d.notes {
                message.push_str(&format!("\nnote: {n}"));
            }
            if let Some(h) = &d.help {
                message.push_str(&format!("\nhelp: {h}"));
            }
            let related: Vec<DiagnosticRelatedInformation> = d
                .secondary
                .iter()
                .filter_map(|l| {
                    let (path, ltext) = texts
                        .entry(l.span.file)
                        .or_insert_with(|| {
                            db.file_by_id(l.span.file)
                                .map(|f| (f.path(db).clone(), f.text(db).clone()))
                                .unwrap_or_default()
                        })
                        .clone();
                    let uri = parse_uri(&path_to_uri(&path))?;
                    let r = range(&LineIndex::new(&ltext), l.span);
                    Some(DiagnosticRelatedInformation {
                        location: Location::new(uri, r),
                        message: if l.message.is_empty() {
                            "see here".to_string()
                        } else {
                            l.message.clone()
                        },
                    })
                })
                .collect();
            Diagnostic {
                range: range(&index, d.primary.span),
                severity: Some(match d.severity {
                    Severity::Error | Severity::Bug => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.to_string())),
                code_description: parse_uri(&format!("{EXPLAIN_URL}/{}.md", d.code))
                    .map(|href| CodeDescription { href }),
                source: Some("biscol".to_string()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                tags: matches!(d.code, "W0002" | "W0003").then(|| vec![DiagnosticTag::UNNECESSARY]),
                data: None,
            }
        })
        .collect()
}

fn offset_of(db: &Database, file: SourceFile, pos: Position) -> usize {
    LineIndex::new(file.text(db)).offset(pos.line, pos.character)
}

/// A location for a span in any file of the database.
fn location(state: &State, span: Span) -> Option<Location> {
    let f = state.db.file_by_id(span.file)?;
    let path = f.path(&state.db);
    if path.starts_with("<stdlib>/") {
        return None;
    }
    let uri = state
        .docs
        .iter()
        .find(|(_, p)| *p == path)
        .map(|(u, _)| u.clone())
        .unwrap_or_else(|| path_to_uri(path));
    let index = LineIndex::new(f.text(&state.db));
    Some(Location::new(parse_uri(&uri)?, range(&index, span)))
}

fn symbol_kind(k: DefKind) -> SymbolKind {
    match k {
        DefKind::Contract => SymbolKind::CLASS,
        DefKind::Const => SymbolKind::CONSTANT,
        DefKind::Fn => SymbolKind::FUNCTION,
        DefKind::ContractParam | DefKind::SpendArg | DefKind::FnParam => SymbolKind::VARIABLE,
        DefKind::Confidential => SymbolKind::FIELD,
        DefKind::SpendPath => SymbolKind::METHOD,
    }
}

fn completion_kind(k: CompletionKind) -> CompletionItemKind {
    match k {
        CompletionKind::Keyword => CompletionItemKind::KEYWORD,
        CompletionKind::Builtin => CompletionItemKind::FUNCTION,
        CompletionKind::Type => CompletionItemKind::CLASS,
        CompletionKind::Def(DefKind::Const) => CompletionItemKind::CONSTANT,
        CompletionKind::Def(DefKind::Fn) => CompletionItemKind::FUNCTION,
        CompletionKind::Def(DefKind::Contract) => CompletionItemKind::CLASS,
        CompletionKind::Def(DefKind::SpendPath) => CompletionItemKind::METHOD,
        CompletionKind::Def(DefKind::Confidential) => CompletionItemKind::FIELD,
        CompletionKind::Def(_) => CompletionItemKind::VARIABLE,
    }
}

/// The capabilities the server announces.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![":".to_string(), "(".to_string()]),
            ..CompletionOptions::default()
        }),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["(".to_string(), ",".to_string()]),
            retrigger_characters: None,
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        inlay_hint_provider: Some(OneOf::Left(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: SemanticTokensLegend {
                    token_types: analysis::TOKEN_TYPES
                        .iter()
                        .map(|t| SemanticTokenType::new(t))
                        .collect(),
                    token_modifiers: analysis::TOKEN_MODIFIERS
                        .iter()
                        .map(|t| SemanticTokenModifier::new(t))
                        .collect(),
                },
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: None,
                work_done_progress_options: WorkDoneProgressOptions::default(),
            },
        )),
        ..ServerCapabilities::default()
    }
}

/// Applies LSP content changes to `text` (full replacements and ranged edits).
pub fn apply_changes(text: &mut String, changes: Vec<TextDocumentContentChangeEvent>) {
    for change in changes {
        match change.range {
            None => *text = change.text,
            Some(r) => {
                let index = LineIndex::new(text);
                let start = index.offset(r.start.line, r.start.character);
                let end = index.offset(r.end.line, r.end.character).max(start);
                text.replace_range(start..end, &change.text);
            }
        }
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, _: InitializeParams) -> Result<InitializeResult> {
        Ok(InitializeResult {
            capabilities: capabilities(),
            server_info: Some(ServerInfo {
                name: "biscol-lsp".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let batches = self.update(&params.text_document.uri, params.text_document.text);
        self.publish(batches).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let text = {
            let state = lock(&self.state);
            let path = uri_to_path(uri.as_str());
            state.db.file(&path).map(|f| f.text(&state.db).clone())
        };
        let Some(mut text) = text else { return };
        let changes = params.content_changes;
        let applied = catch_unwind(AssertUnwindSafe(move || {
            apply_changes(&mut text, changes);
            text
        }));
        match applied {
            Ok(text) => {
                let batches = self.update(&uri, text);
                self.publish(batches).await;
            }
            Err(p) => {
                self.client
                    .log_message(MessageType::ERROR, panic_message(&*p))
                    .await
            }
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        lock(&self.state)
            .docs
            .remove(params.text_document.uri.as_str());
        self.client
            .publish_diagnostics(params.text_document.uri, Vec::new(), None)
            .await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        self.with_file(&p.text_document.uri, |s, file| {
            let offset = offset_of(&s.db, file, p.position);
            let (md, span) = analysis::hover(&s.db, file, offset)?;
            let index = LineIndex::new(file.text(&s.db));
            Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: md,
                }),
                range: (span.file == file.id(&s.db)).then(|| range(&index, span)),
            })
        })
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        self.with_file(&p.text_document.uri, |s, file| {
            let offset = offset_of(&s.db, file, p.position);
            let span = analysis::definition(&s.db, file, offset)?;
            location(s, span).map(GotoDefinitionResponse::Scalar)
        })
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let include = params.context.include_declaration;
        self.with_file(&p.text_document.uri, |s, file| {
            let offset = offset_of(&s.db, file, p.position);
            let spans = analysis::references(&s.db, file, offset, include);
            Some(spans.into_iter().filter_map(|sp| location(s, sp)).collect())
        })
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.with_file(&params.text_document.uri, |s, file| {
            let offset = offset_of(&s.db, file, params.position);
            let (use_span, _) = analysis::target_at(&s.db, file, offset)?;
            let index = LineIndex::new(file.text(&s.db));
            Some(PrepareRenameResponse::Range(range(&index, use_span)))
        })
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let result = self.with_file(&p.text_document.uri, |s, file| {
            let offset = offset_of(&s.db, file, p.position);
            Some(
                analysis::rename(&s.db, file, offset, &params.new_name).map(|spans| {
                    let mut changes: std::collections::HashMap<Uri, Vec<TextEdit>> =
                        std::collections::HashMap::new();
                    for sp in spans {
                        if let Some(loc) = location(s, sp) {
                            changes
                                .entry(loc.uri)
                                .or_default()
                                .push(TextEdit::new(loc.range, params.new_name.clone()));
                        }
                    }
                    WorkspaceEdit::new(changes)
                }),
            )
        })?;
        match result {
            None => Ok(None),
            Some(Ok(edit)) => Ok(Some(edit)),
            Some(Err(message)) => Err(Error::invalid_params(message)),
        }
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        self.with_file(&p.text_document.uri, |s, file| {
            let offset = offset_of(&s.db, file, p.position);
            let items = analysis::completion(&s.db, file, offset)
                .into_iter()
                .map(|c| CompletionItem {
                    label: c.label,
                    kind: Some(completion_kind(c.kind)),
                    detail: (!c.detail.is_empty()).then_some(c.detail),
                    documentation: (!c.docs.is_empty()).then_some(Documentation::MarkupContent(
                        MarkupContent {
                            kind: MarkupKind::Markdown,
                            value: c.docs,
                        },
                    )),
                    ..CompletionItem::default()
                })
                .collect();
            Some(CompletionResponse::Array(items))
        })
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let p = params.text_document_position_params;
        self.with_file(&p.text_document.uri, |s, file| {
            let offset = offset_of(&s.db, file, p.position);
            let (label, params, active, docs) = analysis::signature_help(&s.db, file, offset)?;
            let active = active.min(params.len().saturating_sub(1)) as u32;
            Some(SignatureHelp {
                signatures: vec![SignatureInformation {
                    label,
                    documentation: (!docs.is_empty()).then_some(Documentation::MarkupContent(
                        MarkupContent {
                            kind: MarkupKind::Markdown,
                            value: docs,
                        },
                    )),
                    parameters: Some(
                        params
                            .into_iter()
                            .map(|p| ParameterInformation {
                                label: ParameterLabel::Simple(p),
                                documentation: None,
                            })
                            .collect(),
                    ),
                    active_parameter: Some(active),
                }],
                active_signature: Some(0),
                active_parameter: Some(active),
            })
        })
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.with_file(&params.text_document.uri, |s, file| {
            let index = LineIndex::new(file.text(&s.db));
            #[allow(deprecated)] // `deprecated` is a required field of the LSP struct.
            fn convert(index: &LineIndex<'_>, sym: analysis::Symbol) -> DocumentSymbol {
                DocumentSymbol {
                    name: sym.name,
                    detail: Some(sym.detail),
                    kind: symbol_kind(sym.kind),
                    tags: None,
                    deprecated: None,
                    range: range(index, sym.span),
                    selection_range: range(index, sym.name_span),
                    children: Some(
                        sym.children
                            .into_iter()
                            .map(|c| convert(index, c))
                            .collect(),
                    ),
                }
            }
            let symbols = analysis::document_symbols(&s.db, file)
                .into_iter()
                .map(|sym| convert(&index, sym))
                .collect();
            Some(DocumentSymbolResponse::Nested(symbols))
        })
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.with_file(&params.text_document.uri, |s, file| {
            let text = file.text(&s.db);
            let formatted = biscol_compiler::format::format(text);
            if &formatted == text {
                return Some(Vec::new());
            }
            let index = LineIndex::new(text);
            let whole = range(&index, Span::new(file.id(&s.db), 0, text.len()));
            Some(vec![TextEdit::new(whole, formatted)])
        })
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.with_file(&params.text_document.uri, |s, file| {
            let text = file.text(&s.db);
            let index = LineIndex::new(text);
            let mut data = Vec::new();
            let (mut last_line, mut last_col) = (0u32, 0u32);
            for (start, end, ty, mods) in analysis::semantic_tokens(&s.db, file) {
                // One token per line: split multi-line block comments.
                let mut piece_start = start;
                for (i, part) in text[start..end].split('\n').enumerate() {
                    let piece_end = piece_start + part.len();
                    let (line, col) = index.position(piece_start);
                    let (_, end_col) = index.position(piece_end);
                    if i == 0 || !part.is_empty() {
                        let delta_line = line - last_line;
                        let delta_start = if delta_line == 0 { col - last_col } else { col };
                        data.push(SemanticToken {
                            delta_line,
                            delta_start,
                            length: end_col.saturating_sub(col),
                            token_type: ty,
                            token_modifiers_bitset: mods,
                        });
                        last_line = line;
                        last_col = col;
                    }
                    piece_start = piece_end + 1;
                }
            }
            Some(SemanticTokensResult::Tokens(SemanticTokens {
                result_id: None,
                data,
            }))
        })
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        self.with_file(&params.text_document.uri, |s, file| {
            let index = LineIndex::new(file.text(&s.db));
            Some(
                analysis::inlay_hints(&s.db, file)
                    .into_iter()
                    .map(|(offset, label)| {
                        let (line, character) = index.position(offset);
                        InlayHint {
                            position: Position::new(line, character),
                            label: InlayHintLabel::String(label),
                            kind: None,
                            text_edits: None,
                            tooltip: None,
                            padding_left: Some(false),
                            padding_right: Some(false),
                            data: None,
                        }
                    })
                    .filter(|h| h.position >= params.range.start && h.position <= params.range.end)
                    .collect(),
            )
        })
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri.clone();
        self.with_file(&params.text_document.uri, |s, file| {
            let text = file.text(&s.db);
            let index = LineIndex::new(text);
            let start = index.offset(params.range.start.line, params.range.start.character);
            let end = index.offset(params.range.end.line, params.range.end.character);
            let all = to_lsp_diagnostics(&s.db, file);
            let actions = analysis::code_actions(&s.db, file, start, end)
                .into_iter()
                .map(|a| {
                    let edits = a
                        .edits
                        .iter()
                        .map(|(sp, t)| TextEdit::new(range(&index, *sp), t.clone()))
                        .collect();
                    let fixes = a.fixes.as_ref().and_then(|d| {
                        let r = range(&index, d.primary.span);
                        all.iter()
                            .find(|l| {
                                l.range == r
                                    && l.code == Some(NumberOrString::String(d.code.to_string()))
                            })
                            .cloned()
                    });
                    let mut changes = std::collections::HashMap::new();
                    changes.insert(uri.clone(), edits);
                    CodeActionOrCommand::CodeAction(CodeAction {
                        title: a.title,
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: fixes.map(|d| vec![d]),
                        edit: Some(WorkspaceEdit::new(changes)),
                        command: None,
                        is_preferred: Some(true),
                        disabled: None,
                        data: None,
                    })
                })
                .collect();
            Some(actions)
        })
    }
}

/// The explanation of `code`, for clients that ask (`biscol/explain` request).
pub fn explain(code: &str) -> Option<String> {
    codes::explain(code).map(str::to_string)
}
