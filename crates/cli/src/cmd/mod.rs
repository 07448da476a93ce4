pub mod check;
pub mod export;
pub mod gate;
pub mod replay;
pub mod respond;
mod summary;
pub mod sync;
