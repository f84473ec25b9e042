//! Chat models with native tool calling (DESIGN.md §4): Amazon Bedrock Converse and OpenAI-compatible chat
//! completions, behind one port.
