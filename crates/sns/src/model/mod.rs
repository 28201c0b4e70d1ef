//! Pure SNS logic: no I/O, clock or locks.

pub mod attributes;
pub mod envelope;
pub mod signing;
pub mod subscription;
pub mod time;
pub mod topic;
