//! Pure logic of CloudWatch Logs, with no I/O, clock or locks: filter patterns, PutLogEvents
//! batch rules, GetLogEvents paging and tokens, AWS's validation messages.

pub mod batch;
pub mod paging;
pub mod pattern;
pub mod validate;
