pub mod check;
pub mod export;
pub mod replay;
mod replay_out;
mod summary;
