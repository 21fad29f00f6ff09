//! The BiSCOL compiler.
