pub mod check;
pub mod export;
