//! The BiSCOL runtime.
