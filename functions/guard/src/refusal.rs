//! The kind words a member reads when the guard blocks a turn.

use navigator_platform::contracts::BlockCategory;

pub fn refusal(category: BlockCategory) -> &'static str {
    match category {
        BlockCategory::UnsafeMedical => {
            "I can't give medical advice, such as a diagnosis or whether to start, stop or change a medicine. \
             Please ask your doctor, pharmacist or another clinician; if this might be an emergency, call 911 now. \
             I can tell you what your plan covers, for example the cost of a doctor's visit, urgent care or a \
             prescription."
        }
        BlockCategory::Injection => {
            "I can't help with that request. I can answer questions about your own plan's benefits, costs and \
             how to use your coverage."
        }
        BlockCategory::OffTopic => {
            "I can only help with questions about your health plan: benefits, costs, doctors, prescriptions and \
             how to use your coverage."
        }
    }
}
