//! Syntax: tokens, the lexer adapter, the AST and the parser.
//!
//! This layer knows nothing of names, types, salsa or editors: text in, tree and syntax
//! errors out.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod token;
