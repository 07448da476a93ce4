pub mod check;
pub mod export;
pub mod gate;
pub mod replay;
mod summary;
pub mod sync;
