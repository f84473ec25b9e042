//! Which adapter serves each port (docs/DESIGN.md §4, §8), chosen by environment variables and validated with the
//! budgets: a typo is a start-up error naming the variable, and `navigator config` prints the choice.

use serde::{Serialize, Serializer};

use super::{ConfigErrors, Reader};

/// A closed set of names an environment variable may take.
pub trait Choice: Copy + PartialEq + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;

    /// Every name, for an error message: `none, openai or bedrock`.
    fn names() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|c| c.name()).collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

macro_rules! serialize_by_name {
    ($($choice:ty),*) => {$(
        impl Serialize for $choice {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }
    )*};
}

/// `LLM_PROVIDER`: who plans and composes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmProvider {
    /// The rule planner and the extractive composer.
    None,
    /// An OpenAI-compatible chat API with tool calling.
    OpenAi,
    /// Amazon Bedrock Converse with tool use.
    Bedrock,
}

impl Choice for LlmProvider {
    const ALL: &'static [Self] = &[Self::None, Self::OpenAi, Self::Bedrock];
    fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::OpenAi => "openai",
            Self::Bedrock => "bedrock",
        }
    }
}

/// `EMBEDDINGS_PROVIDER`: who turns text into vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingsProvider {
    /// all-MiniLM-L6-v2 in this process.
    Local,
    OpenAi,
    Bedrock,
}

impl Choice for EmbeddingsProvider {
    const ALL: &'static [Self] = &[Self::Local, Self::OpenAi, Self::Bedrock];
    fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::OpenAi => "openai",
            Self::Bedrock => "bedrock",
        }
    }
}

/// One entry of `TRANSLATE_PROVIDERS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranslateProvider {
    Aws,
    Deepl,
    /// The offline Spanish → English glossary; it may only close the list.
    Glossary,
}

impl Choice for TranslateProvider {
    const ALL: &'static [Self] = &[Self::Aws, Self::Deepl, Self::Glossary];
    fn name(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::Deepl => "deepl",
            Self::Glossary => "glossary",
        }
    }
}

/// `GUARD_ML`: the guard's ML stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardMl {
    /// The classifier shipped with the guard (semantic when the MiniLM files are present).
    Local,
    /// The shipped lexical model only: no sentence model in the process.
    Lexical,
    /// Bedrock Guardrails `ApplyGuardrail`.
    Bedrock,
}

impl Choice for GuardMl {
    const ALL: &'static [Self] = &[Self::Local, Self::Lexical, Self::Bedrock];
    fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Lexical => "lexical",
            Self::Bedrock => "bedrock",
        }
    }
}

/// `TOOL_INVOKER`: how the orchestrator reaches its tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolInvokerKind {
    /// The tools' libraries in the same process (the CLI, the local server, tests).
    InProcess,
    /// AWS Lambda `Invoke`.
    Lambda,
}

impl Choice for ToolInvokerKind {
    const ALL: &'static [Self] = &[Self::InProcess, Self::Lambda];
    fn name(self) -> &'static str {
        match self {
            Self::InProcess => "in-process",
            Self::Lambda => "lambda",
        }
    }
}

serialize_by_name!(
    LlmProvider,
    EmbeddingsProvider,
    TranslateProvider,
    GuardMl,
    ToolInvokerKind
);

/// Every adapter choice of this environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Providers {
    pub llm: LlmProvider,
    pub embeddings: EmbeddingsProvider,
    /// In order of preference; empty means the offline glossary alone.
    pub translate: Vec<TranslateProvider>,
    pub guard_ml: GuardMl,
    /// `None`: each host's own (the orchestrator function invokes Lambdas; the CLI hosts the tools in-process).
    pub tool_invoker: Option<ToolInvokerKind>,
}

impl Providers {
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let mut read = Reader::new(&lookup);
        let llm = read.choice("LLM_PROVIDER", LlmProvider::None);
        let embeddings = read.choice("EMBEDDINGS_PROVIDER", EmbeddingsProvider::Local);
        let translate: Vec<TranslateProvider> = read.choices("TRANSLATE_PROVIDERS");
        if let Some(position) = translate.iter().position(|p| *p == TranslateProvider::Glossary)
            && position + 1 != translate.len()
        {
            let raw = lookup("TRANSLATE_PROVIDERS").unwrap_or_default();
            read.fail(
                "TRANSLATE_PROVIDERS",
                &raw,
                "glossary translates Spanish questions only, so it may only close the list".into(),
                (),
            );
        }
        let guard_ml = read.choice("GUARD_ML", GuardMl::Local);
        let tool_invoker = match lookup("TOOL_INVOKER") {
            Some(raw) if !raw.trim().is_empty() => Some(read.choice("TOOL_INVOKER", ToolInvokerKind::Lambda)),
            _ => None,
        };
        read.finish(Self {
            llm,
            embeddings,
            translate,
            guard_ml,
            tool_invoker,
        })
    }

    /// Prints the choices once, as one structured log line.
    pub fn log(&self) {
        let json = serde_json::to_string(self).unwrap_or_default();
        tracing::info!(providers = %json, "providers");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn providers(settings: &[(&str, &str)]) -> Result<Providers, ConfigErrors> {
        let map: HashMap<String, String> = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Providers::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_is_the_embedded_defaults() {
        let chosen = providers(&[]).unwrap();
        assert_eq!(chosen.llm, LlmProvider::None);
        assert_eq!(chosen.embeddings, EmbeddingsProvider::Local);
        assert!(chosen.translate.is_empty());
        assert_eq!(chosen.guard_ml, GuardMl::Local);
        assert_eq!(chosen.tool_invoker, None);
    }

    #[test]
    fn names_are_read_as_written() {
        let chosen = providers(&[
            ("LLM_PROVIDER", "bedrock"),
            ("EMBEDDINGS_PROVIDER", " openai "),
            ("TRANSLATE_PROVIDERS", "deepl, aws,glossary"),
            ("GUARD_ML", "bedrock"),
            ("TOOL_INVOKER", "lambda"),
        ])
        .unwrap();
        assert_eq!(chosen.llm, LlmProvider::Bedrock);
        assert_eq!(chosen.embeddings, EmbeddingsProvider::OpenAi);
        assert_eq!(
            chosen.translate,
            [
                TranslateProvider::Deepl,
                TranslateProvider::Aws,
                TranslateProvider::Glossary
            ]
        );
        assert_eq!(chosen.tool_invoker, Some(ToolInvokerKind::Lambda));
        let json = serde_json::to_value(&chosen).unwrap();
        assert_eq!(json["translate"], serde_json::json!(["deepl", "aws", "glossary"]));
    }

    #[test]
    fn every_typo_is_an_error_naming_its_variable() {
        let errors = providers(&[
            ("LLM_PROVIDER", "opneai"),
            ("EMBEDDINGS_PROVIDER", "minilm"),
            ("TRANSLATE_PROVIDERS", "aws,google"),
            ("GUARD_ML", "remote"),
            ("TOOL_INVOKER", "http"),
        ])
        .unwrap_err();
        let text = errors.to_string();
        for variable in [
            "LLM_PROVIDER",
            "EMBEDDINGS_PROVIDER",
            "TRANSLATE_PROVIDERS",
            "GUARD_ML",
            "TOOL_INVOKER",
        ] {
            assert!(text.contains(variable), "{text}");
        }
        assert_eq!(errors.0.len(), 5);
        assert!(text.contains("must be one of none, openai or bedrock"), "{text}");
        assert!(
            text.contains("\"google\" is not one of aws, deepl or glossary"),
            "{text}"
        );
    }

    #[test]
    fn the_glossary_may_only_close_the_translation_list() {
        let errors = providers(&[("TRANSLATE_PROVIDERS", "glossary,aws")]).unwrap_err();
        assert_eq!(errors.0[0].variable, "TRANSLATE_PROVIDERS");
        assert!(providers(&[("TRANSLATE_PROVIDERS", "aws,aws")]).is_err());
    }
}
