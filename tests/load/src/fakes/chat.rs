//! The fake chat model's behaviour, over the OpenAI chat-completions wire format. Asked a question, it calls
//! `retrieve` (and `web_search` when the question needs outside facts, by the same cues as the rule planner); given
//! tool results, it answers with the first sentence of the best plan passage and web result, each after its
//! citation marker, or `NOT_FOUND:` when nothing came back.

use orchestrator::needs_outside_facts;
use serde_json::{Value, json};
use std::hash::{DefaultHasher, Hash, Hasher};

/// The most characters of a quoted sentence.
const MAX_SENTENCE_CHARS: usize = 240;

/// A chat completion for `request`.
pub fn reply(request: &Value) -> Value {
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let tool_results: Vec<&str> = messages
        .iter()
        .filter(|m| m["role"] == "tool")
        .filter_map(|m| m["content"].as_str())
        .collect();
    let message = if tool_results.is_empty() {
        let question = messages
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default();
        plan(question)
    } else {
        json!({"role": "assistant", "content": answer(&tool_results)})
    };
    let finish_reason = if message.get("tool_calls").is_some() {
        "tool_calls"
    } else {
        "stop"
    };
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": request["model"],
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    })
}

fn plan(question: &str) -> Value {
    let call = |id: &str, name: &str| json!({"id": id, "type": "function", "function": {"name": name, "arguments": json!({"query": question}).to_string()}});
    let mut calls = vec![call("call_retrieve", "retrieve")];
    if needs_outside_facts(question) {
        calls.push(call("call_web", "web_search"));
    }
    json!({"role": "assistant", "content": null, "tool_calls": calls})
}

fn answer(tool_results: &[&str]) -> String {
    let mut sentences = Vec::new();
    for prefix in ["[p. ", "[http"] {
        let quoted = tool_results
            .iter()
            .flat_map(|content| content.split("\n\n"))
            .filter(|passage| passage.starts_with(prefix))
            .find_map(cited_sentence);
        sentences.extend(quoted);
    }
    if sentences.is_empty() {
        "NOT_FOUND: The documents I searched do not answer this question.".into()
    } else {
        sentences.join(" ")
    }
}

/// `[marker] header\ntext` → the text's first sentence followed by the marker.
fn cited_sentence(passage: &str) -> Option<String> {
    let marker_end = passage.find(']')?;
    let marker = &passage[..=marker_end];
    let text = passage.split_once('\n').map(|(_, text)| text)?.trim();
    let sentence: String = text
        .split_inclusive(['.', '?', '!'])
        .next()
        .unwrap_or(text)
        .chars()
        .take(MAX_SENTENCE_CHARS)
        .collect();
    let sentence = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
    (!sentence.is_empty()).then(|| format!("{sentence} {marker}"))
}

/// A unit vector from hashed words: texts sharing words point the same way, as embeddings of similar texts do.
pub fn hashed_embedding(text: &str, dimensions: usize) -> Vec<f32> {
    let mut vector = vec![0f32; dimensions.max(1)];
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let mut hasher = DefaultHasher::new();
        word.to_lowercase().hash(&mut hasher);
        let h = hasher.finish();
        let index = (h % vector.len() as u64) as usize;
        vector[index] += if h & (1 << 63) == 0 { 1.0 } else { -1.0 };
    }
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    }
    vector
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_becomes_tool_calls_and_outside_facts_add_the_web() {
        let plan_only =
            reply(&json!({"messages": [{"role": "user", "content": "What does a specialist visit cost?"}]}));
        let calls = plan_only["choices"][0]["message"]["tool_calls"].as_array().unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0]["function"]["name"], "retrieve");
        let args: Value = serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(args["query"], "What does a specialist visit cost?");
        let with_web = reply(
            &json!({"messages": [{"role": "user", "content": "How much is the standard Part B premium this year?"}]}),
        );
        assert_eq!(
            with_web["choices"][0]["message"]["tool_calls"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(with_web["choices"][0]["finish_reason"], "tool_calls");
    }

    #[test]
    fn tool_results_become_a_cited_answer_or_not_found() {
        let results = json!({"messages": [
            {"role": "user", "content": "specialist?"},
            {"role": "tool", "tool_call_id": "call_retrieve", "content": "[p. 92] Chapter 4\nSpecialist visit $0 copayment for each visit. Referral needed.\n\n[p. 93] Other\nMore."},
        ]});
        let text = reply(&results)["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(text, "Specialist visit $0 copayment for each visit. [p. 92]");
        let nothing = json!({"messages": [{"role": "tool", "content": "No passage of the plan documents matched."}]});
        assert!(
            reply(&nothing)["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .starts_with("NOT_FOUND:")
        );
    }

    #[test]
    fn embeddings_are_unit_vectors_and_similar_texts_are_close() {
        let a = hashed_embedding("specialist visit copay", 384);
        let b = hashed_embedding("copay for a specialist visit", 384);
        let c = hashed_embedding("hearing aids allowance", 384);
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
        assert!((dot(&a, &a) - 1.0).abs() < 1e-5);
        assert!(dot(&a, &b) > dot(&a, &c));
    }
}
