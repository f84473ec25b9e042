//! A member's language, offline: which language a text is in ([`detect`]), and Spanish rendered as English term by
//! term ([`spanish`]). The translate function uses both (its embedded default translator is [`spanish`]); the guard
//! reads a Spanish message's English rendering beside the message, with its English sentence model.

pub mod detect;
pub mod spanish;
