//! Reads the IR's text form (see [`super::printer`]) back into IR.
//!
//! Used by pass tests (IR text in, IR text out) and to check that printing loses nothing:
//! `parse(print(m)) == m`. Errors carry the byte offset and what was expected. Nesting deeper
//! than [`MAX_DEPTH`] is an error, not a stack overflow.

use std::fmt;

use super::{
    AbsLock, Arith, Cond, CondKind, Contract, KeyPath, KeyRef, Literal, Module, Param, Prove,
    RelLock, Require, SpendPath,
};
use crate::hir::HashFn;
use crate::span::{FileId, Span};
use crate::syntax::ast::BinOp;
use crate::types::Ty;

/// The deepest condition nesting the parser accepts.
pub const MAX_DEPTH: usize = 256;

/// A problem in IR text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IrParseError {
    /// Byte offset in the text.
    pub pos: usize,
    /// What was expected there.
    pub expected: String,
}

impl fmt::Display for IrParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IR text, byte {}: expected {}", self.pos, self.expected)
    }
}

impl std::error::Error for IrParseError {}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Int(u64),
    Hex(String),
    Str(String),
    Punct(&'static str),
}

const PUNCT: &[&str] = &[
    "..", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ":", ";", "=", "<", ">", "+",
    "-", "*", "@",
];

fn tokenize(text: &str) -> Result<Vec<(usize, Tok)>, IrParseError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let fail = |pos, what: &str| IrParseError {
        pos,
        expected: what.to_string(),
    };
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'0' && bytes.get(i + 1) == Some(&b'x') {
            let start = i + 2;
            let mut j = start;
            while j < bytes.len() && bytes[j].is_ascii_hexdigit() {
                j += 1;
            }
            out.push((i, Tok::Hex(text[start..j].to_string())));
            i = j;
        } else if c.is_ascii_digit() {
            let mut j = i;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            let n = text[i..j]
                .parse()
                .map_err(|_| fail(i, "a number that fits in 64 bits"))?;
            out.push((i, Tok::Int(n)));
            i = j;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let mut j = i;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
            }
            out.push((i, Tok::Ident(text[i..j].to_string())));
            i = j;
        } else if c == b'"' {
            let mut value = String::new();
            let mut chars = text[i + 1..].char_indices();
            let mut end = None;
            while let Some((k, ch)) = chars.next() {
                match ch {
                    '"' => {
                        end = Some(i + 1 + k + 1);
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, 't')) => value.push('\t'),
                        Some((_, 'r')) => value.push('\r'),
                        Some((_, '0')) => value.push('\0'),
                        Some((_, 'u')) => {
                            // `{XXXX}` as Rust's `{:?}` prints it.
                            let rest = &text[i + 1 + k + 2..];
                            let close = rest
                                .find('}')
                                .ok_or_else(|| fail(i + k, "`}` closing a \\u escape"))?;
                            let code = u32::from_str_radix(rest.get(1..close).unwrap_or(""), 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| fail(i + k, "a valid \\u escape"))?;
                            value.push(code);
                            for _ in 0..close + 1 {
                                chars.next();
                            }
                        }
                        Some((_, other)) => value.push(other),
                        None => return Err(fail(i, "a closing `\"`")),
                    },
                    other => value.push(other),
                }
            }
            let end = end.ok_or_else(|| fail(i, "a closing `\"`"))?;
            out.push((i, Tok::Str(value)));
            i = end;
        } else if let Some(p) = PUNCT.iter().find(|p| text[i..].starts_with(**p)) {
            out.push((i, Tok::Punct(p)));
            i += p.len();
        } else {
            return Err(fail(i, "a token"));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    confidentials: Vec<String>,
}

/// Parses a module from IR text.
pub fn parse(text: &str) -> Result<Module, IrParseError> {
    let mut p = Parser {
        toks: tokenize(text)?,
        pos: 0,
        end: text.len(),
        confidentials: Vec::new(),
    };
    let mut contracts = Vec::new();
    while p.peek().is_some() {
        contracts.push(p.contract()?);
    }
    Ok(Module { contracts })
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.0)
    }

    fn fail<T>(&self, expected: &str) -> Result<T, IrParseError> {
        Err(IrParseError {
            pos: self.offset(),
            expected: expected.to_string(),
        })
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.1.clone());
        self.pos += 1;
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(x)) if x == w)
    }

    fn punct(&mut self, p: &str) -> Result<(), IrParseError> {
        if self.is_punct(p) {
            self.pos += 1;
            Ok(())
        } else {
            self.fail(&format!("`{p}`"))
        }
    }

    fn word(&mut self, w: &str) -> Result<(), IrParseError> {
        if self.is_word(w) {
            self.pos += 1;
            Ok(())
        } else {
            self.fail(&format!("`{w}`"))
        }
    }

    fn ident(&mut self) -> Result<String, IrParseError> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => self.fail("a name"),
        }
    }

    fn int(&mut self) -> Result<u64, IrParseError> {
        match self.peek() {
            Some(Tok::Int(n)) => {
                let n = *n;
                self.pos += 1;
                Ok(n)
            }
            _ => self.fail("a number"),
        }
    }

    fn u32(&mut self) -> Result<u32, IrParseError> {
        let at = self.offset();
        u32::try_from(self.int()?).map_err(|_| IrParseError {
            pos: at,
            expected: "a number below 2^32".into(),
        })
    }

    fn span(&mut self) -> Result<Span, IrParseError> {
        if !self.is_punct("@") {
            return Ok(Span::default());
        }
        self.pos += 1;
        let file = self.u32()?;
        self.punct(":")?;
        let start = self.u32()?;
        self.punct("..")?;
        let end = self.u32()?;
        Ok(Span {
            file: FileId(file),
            start,
            end,
        })
    }

    fn ty(&mut self) -> Result<Ty, IrParseError> {
        if self.is_punct("[") {
            self.pos += 1;
            let elem = self.ty()?;
            self.punct(";")?;
            let n = self.u32()?;
            self.punct("]")?;
            return Ok(Ty::Array(Box::new(elem), n));
        }
        let name = self.ident()?;
        if name == "Commitment" {
            self.punct("<")?;
            self.word("u64")?;
            self.punct(">")?;
            return Ok(Ty::Commitment);
        }
        if name == "String" {
            return Ok(Ty::Str);
        }
        Ty::from_name(&name).ok_or(IrParseError {
            pos: self.offset(),
            expected: "a type".into(),
        })
    }

    fn literal(&mut self) -> Result<Literal, IrParseError> {
        match self.bump() {
            Some(Tok::Int(n)) => Ok(Literal::Int(n)),
            Some(Tok::Hex(h)) => Ok(Literal::Bytes(h)),
            Some(Tok::Punct("[")) => {
                let mut items = Vec::new();
                while !self.is_punct("]") {
                    if !items.is_empty() {
                        self.punct(",")?;
                    }
                    items.push(self.literal()?);
                }
                self.pos += 1;
                Ok(Literal::Array(items))
            }
            _ => {
                self.pos -= 1;
                self.fail("a literal")
            }
        }
    }

    /// `NAME[INDEX]: TYPE`, a timelock parameter with its type.
    fn typed_param_ref(&mut self) -> Result<(String, Option<u32>, Ty), IrParseError> {
        let (name, index) = self.param_ref()?;
        self.punct(":")?;
        Ok((name, index, self.ty()?))
    }

    fn param_ref(&mut self) -> Result<(String, Option<u32>), IrParseError> {
        let name = self.ident()?;
        let index = if self.is_punct("[") {
            self.pos += 1;
            let i = self.u32()?;
            self.punct("]")?;
            Some(i)
        } else {
            None
        };
        Ok((name, index))
    }

    fn key(&mut self) -> Result<KeyRef, IrParseError> {
        if let Some(Tok::Hex(h)) = self.peek() {
            let h = h.clone();
            self.pos += 1;
            return Ok(KeyRef::Literal(h));
        }
        let (name, index) = self.param_ref()?;
        Ok(KeyRef::Param { name, index })
    }

    fn contract(&mut self) -> Result<Contract, IrParseError> {
        self.word("contract")?;
        let name = self.ident()?;
        let span = self.span()?;
        self.punct("{")?;
        let mut c = Contract {
            name,
            params: Vec::new(),
            key: KeyPath::Nums,
            confidentials: Vec::new(),
            paths: Vec::new(),
            span,
        };
        self.confidentials.clear();
        loop {
            if self.is_punct("}") {
                self.pos += 1;
                return Ok(c);
            }
            match self.ident()?.as_str() {
                "param" => c.params.push(self.param(true)?),
                "confidential" => {
                    let name = self.ident()?;
                    self.confidentials.push(name.clone());
                    c.confidentials.push(name);
                }
                "key" => {
                    c.key = if self.is_word("nums") {
                        self.pos += 1;
                        KeyPath::Nums
                    } else if self.is_word("musig") {
                        self.pos += 1;
                        self.punct("(")?;
                        let mut keys = Vec::new();
                        while !self.is_punct(")") {
                            if !keys.is_empty() {
                                self.punct(",")?;
                            }
                            keys.push(self.key()?);
                        }
                        self.pos += 1;
                        KeyPath::MuSig(keys, self.span()?)
                    } else {
                        let k = self.key()?;
                        KeyPath::Single(k, self.span()?)
                    };
                }
                "path" => c.paths.push(self.path()?),
                _ => {
                    self.pos -= 1;
                    return self.fail("`param`, `confidential`, `key`, `path` or `}`");
                }
            }
        }
    }

    fn param(&mut self, with_default: bool) -> Result<Param, IrParseError> {
        let name = self.ident()?;
        self.punct(":")?;
        let ty = self.ty()?;
        let default = if with_default && self.is_punct("=") {
            self.pos += 1;
            Some(self.literal()?)
        } else {
            None
        };
        Ok(Param { name, ty, default })
    }

    fn path(&mut self) -> Result<SpendPath, IrParseError> {
        let name = self.ident()?;
        self.word("weight")?;
        let weight = self.u32()?;
        let span = self.span()?;
        self.punct("{")?;
        let mut p = SpendPath {
            name,
            weight,
            args: Vec::new(),
            requires: Vec::new(),
            proves: Vec::new(),
            span,
        };
        loop {
            if self.is_punct("}") {
                self.pos += 1;
                return Ok(p);
            }
            match self.ident()?.as_str() {
                "arg" => p.args.push(self.param(false)?),
                "require" => {
                    let span = self.span()?;
                    let message = if let Some(Tok::Str(s)) = self.peek() {
                        let s = s.clone();
                        self.pos += 1;
                        Some(s)
                    } else {
                        None
                    };
                    let cond = self.cond(0)?;
                    p.requires.push(Require {
                        cond,
                        message,
                        span,
                    });
                }
                "prove" => {
                    let span = self.span()?;
                    let lhs = self.arith(0)?;
                    let op = match self.bump() {
                        Some(Tok::Punct("==")) => BinOp::Eq,
                        Some(Tok::Punct("!=")) => BinOp::Ne,
                        Some(Tok::Punct("<")) => BinOp::Lt,
                        Some(Tok::Punct("<=")) => BinOp::Le,
                        Some(Tok::Punct(">")) => BinOp::Gt,
                        Some(Tok::Punct(">=")) => BinOp::Ge,
                        _ => {
                            self.pos -= 1;
                            return self.fail("a comparison");
                        }
                    };
                    let rhs = self.arith(0)?;
                    p.proves.push(Prove { op, lhs, rhs, span });
                }
                _ => {
                    self.pos -= 1;
                    return self.fail("`arg`, `require`, `prove` or `}`");
                }
            }
        }
    }

    fn arith(&mut self, depth: usize) -> Result<Arith, IrParseError> {
        if depth > MAX_DEPTH {
            return self.fail("shallower nesting");
        }
        match self.bump() {
            Some(Tok::Int(n)) => Ok(Arith::Const(n)),
            Some(Tok::Ident(name)) => Ok(if self.confidentials.contains(&name) {
                Arith::Confidential(name)
            } else {
                Arith::Param(name)
            }),
            Some(Tok::Punct("(")) => {
                let l = self.arith(depth + 1)?;
                let op = match self.bump() {
                    Some(Tok::Punct("+")) => BinOp::Add,
                    Some(Tok::Punct("-")) => BinOp::Sub,
                    Some(Tok::Punct("*")) => BinOp::Mul,
                    _ => {
                        self.pos -= 1;
                        return self.fail("`+`, `-` or `*`");
                    }
                };
                let r = self.arith(depth + 1)?;
                self.punct(")")?;
                Ok(Arith::Binary(op, Box::new(l), Box::new(r)))
            }
            _ => {
                self.pos -= 1;
                self.fail("a term")
            }
        }
    }

    fn cond_list(&mut self, depth: usize) -> Result<Vec<Cond>, IrParseError> {
        let mut items = Vec::new();
        while !self.is_punct(")") {
            if !items.is_empty() {
                self.punct(",")?;
            }
            items.push(self.cond(depth + 1)?);
        }
        self.pos += 1;
        Ok(items)
    }

    fn cond(&mut self, depth: usize) -> Result<Cond, IrParseError> {
        if depth > MAX_DEPTH {
            return self.fail("shallower nesting");
        }
        let word = self.ident()?;
        let kind = match word.as_str() {
            "true" => CondKind::True,
            "false" => CondKind::False,
            "sig" => {
                self.punct("(")?;
                let k = self.key()?;
                self.punct(")")?;
                CondKind::Sig(k)
            }
            "older" => {
                self.punct("(")?;
                let lock = if let Some(Tok::Int(_)) = self.peek() {
                    let n = self.u32()?;
                    match self.ident()?.as_str() {
                        "blocks" => RelLock::Blocks(n),
                        "x512s" => RelLock::Time512(n),
                        _ => return self.fail("`blocks` or `x512s`"),
                    }
                } else {
                    let (name, index, ty) = self.typed_param_ref()?;
                    RelLock::Param { name, index, ty }
                };
                self.punct(")")?;
                CondKind::Older(lock)
            }
            "after" => {
                self.punct("(")?;
                let lock = if self.is_word("height") || self.is_word("time") {
                    let height = self.is_word("height");
                    self.pos += 1;
                    let n = self.u32()?;
                    if height {
                        AbsLock::Height(n)
                    } else {
                        AbsLock::Time(n)
                    }
                } else {
                    let (name, index, ty) = self.typed_param_ref()?;
                    AbsLock::Param { name, index, ty }
                };
                self.punct(")")?;
                CondKind::After(lock)
            }
            "and" | "or" => {
                self.punct("(")?;
                let items = self.cond_list(depth)?;
                if word == "and" {
                    CondKind::And(items)
                } else {
                    CondKind::Or(items)
                }
            }
            "thresh" => {
                self.punct("(")?;
                let k = self.u32()?;
                self.punct(",")?;
                CondKind::Thresh(k, self.cond_list(depth)?)
            }
            other => match HashFn::from_name(other) {
                Some(func) => {
                    self.punct("(")?;
                    let preimage = self.ident()?;
                    self.punct(")")?;
                    self.punct("==")?;
                    CondKind::Hash {
                        func,
                        preimage,
                        hash: self.key()?,
                    }
                }
                None => {
                    self.pos -= 1;
                    return self.fail("a condition");
                }
            },
        };
        let span = self.span()?;
        Ok(Cond { kind, span })
    }
}
