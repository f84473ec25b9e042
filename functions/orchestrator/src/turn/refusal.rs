//! What a member reads when the guard blocks a turn and gives no refusal text of its own.

use navigator_platform::contracts::BlockCategory;

pub fn refusal(category: Option<BlockCategory>) -> &'static str {
    match category {
        Some(BlockCategory::UnsafeMedical) => {
            "I can't give medical advice such as a diagnosis or whether to start or stop a treatment. Please ask your \
             doctor or another clinician; in an emergency, call 911. I can tell you what your plan covers for a \
             visit or a treatment."
        }
        Some(BlockCategory::OffTopic) => {
            "I can only help with questions about your health plan: benefits, costs, doctors, drugs and how to use \
             your coverage."
        }
        Some(BlockCategory::Injection) | None => {
            "I can't help with that request. I can answer questions about your own plan's benefits and costs."
        }
    }
}
