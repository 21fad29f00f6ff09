//! The BiSCOL language server.
