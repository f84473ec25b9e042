//! The real sample plan through the real pipeline pieces: PDF extraction keeps pages and the facts on them, the
//! chunker keeps its bounds, and the local sentence model (fetched by `scripts/fetch-model`) embeds sensibly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use navigator_resilience::{CpuPool, Deadline};
use navigator_retrieval::chunk::{ChunkSizes, chunk_pages};
use navigator_retrieval::document;
use navigator_retrieval::embed::{Embedder, MiniLm, dot};
use navigator_retrieval::eval::holds_fact;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn sample() -> document::SourceDocument {
    document::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/sample/scan_classic_hmo.pdf")).unwrap()
}

fn model_dir() -> PathBuf {
    std::env::var_os("NAVIGATOR_MODEL_DIR")
        .map(PathBuf::from)
        .expect("NAVIGATOR_MODEL_DIR is unset: run ./scripts/test, which fetches the model")
}

#[test]
fn pdf_extraction_keeps_every_page_and_the_facts_on_them() {
    let plan = sample();
    assert_eq!(plan.pages.len(), 232);
    assert_eq!(plan.title, "2025 Evidence of Coverage for SCAN Classic");
    // PDF page numbers, as the eval set counts them; each fact was checked against `pdftotext -layout`.
    let facts = [
        (12, "do not pay a separate monthly plan premium"),
        (57, "$1,500"),
        (61, "$180 copayment for each"),
        (71, "$90 copayment for each"),
        (74, "$550 copayment per aid"),
        (85, "1-855-431-5537"),
        (92, "Specialist visit"),
        (141, "$35 per month supply"),
    ];
    for (page, fact) in facts {
        assert!(
            holds_fact(&plan.pages[page - 1].text, fact),
            "page {page} should hold {fact:?}"
        );
    }
}

#[test]
fn chunks_of_the_sample_keep_their_bounds_pages_and_sections() {
    let plan = sample();
    let sizes = ChunkSizes::default();
    let chunks = chunk_pages(&plan.pages, sizes);
    assert!((400..1200).contains(&chunks.len()), "{} chunks", chunks.len());
    assert!(chunks.iter().all(|c| c.words as usize <= sizes.max_words));
    assert!(chunks.iter().all(|c| c.page_start <= c.page_end && c.page_end <= 232));
    let specialist = chunks
        .iter()
        .find(|c| holds_fact(&c.text, "Specialist visit $0 copayment for each"))
        .unwrap();
    assert_eq!(specialist.page_start, 92);
    assert!(
        specialist.section.contains("Medical Benefits Chart"),
        "{}",
        specialist.section
    );
    assert!(
        !chunks
            .iter()
            .any(|c| c.text.contains("2025 Evidence of Coverage for SCAN Classic")),
        "running headers are dropped"
    );
}

#[tokio::test]
async fn the_local_model_embeds_unit_vectors_that_rank_by_meaning() {
    let model = MiniLm::load(&model_dir(), CpuPool::new("test-embed", 2, 8)).unwrap();
    let texts = vec![
        "How much does it cost to see a specialist?".to_string(),
        "Specialist visit: $0 copayment for each office visit.".to_string(),
        "The grand canyon is a popular destination for hikers.".to_string(),
    ];
    let vectors = model
        .embed(texts, Deadline::after(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(model.dimensions(), 384);
    assert!(vectors.iter().all(|v| v.len() == 384 && (dot(v, v) - 1.0).abs() < 1e-4));
    let (related, unrelated) = (dot(&vectors[0], &vectors[1]), dot(&vectors[0], &vectors[2]));
    assert!(related > unrelated + 0.2, "related {related}, unrelated {unrelated}");
    // Batching must not change a text's vector.
    let alone = model
        .embed(
            vec!["Specialist visit: $0 copayment for each office visit.".into()],
            Deadline::after(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert!(dot(&alone[0], &vectors[1]) > 0.9999);
}

/// candle-transformers' BERT over the same files, mean-pooled and normalised as the navigator pools: the reference the
/// navigator's own encoder (with its vectorised GELU and softmax) must match.
fn reference_vectors(dir: &Path, texts: &[&str]) -> Vec<Vec<f32>> {
    use candle_core::{DType, Device, Tensor};
    use candle_transformers::models::bert::{BertModel, Config};
    let config: Config = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    // Read into memory, not mapped: mapping a file is `unsafe` in candle, and this workspace denies it.
    let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
    let vars = candle_nn::VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu).unwrap();
    let bert = BertModel::load(vars, &config).unwrap();
    let mut tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    tokenizer.with_padding(Some(tokenizers::PaddingParams::default()));
    let encodings = tokenizer.encode_batch(texts.to_vec(), true).unwrap();
    let (rows, width) = (encodings.len(), encodings[0].get_ids().len());
    let ids: Vec<u32> = encodings.iter().flat_map(|e| e.get_ids().to_vec()).collect();
    let mask: Vec<u32> = encodings.iter().flat_map(|e| e.get_attention_mask().to_vec()).collect();
    let ids = Tensor::from_vec(ids, (rows, width), &Device::Cpu).unwrap();
    let mask = Tensor::from_vec(mask, (rows, width), &Device::Cpu).unwrap();
    let hidden = bert.forward(&ids, &ids.zeros_like().unwrap(), Some(&mask)).unwrap();
    let mask = mask.to_dtype(DType::F32).unwrap().unsqueeze(2).unwrap();
    let mean = (hidden.broadcast_mul(&mask).unwrap().sum(1).unwrap())
        .broadcast_div(&mask.sum(1).unwrap())
        .unwrap();
    mean.to_vec2::<f32>()
        .unwrap()
        .into_iter()
        .map(|mut v| {
            navigator_retrieval::embed::normalize(&mut v);
            v
        })
        .collect()
}

#[test]
fn the_navigators_encoder_gives_candle_transformers_bert_vectors() {
    let dir = model_dir();
    let texts = [
        "What does a specialist visit cost me?",
        "¿Cuánto pago por una visita al especialista?",
        "Ambulance services: $275 copayment for each one-way trip. Prior authorization is required for \
         non-emergency transport, and your doctor must certify that other transport would endanger your health.",
        "x",
    ];
    let reference = reference_vectors(&dir, &texts);
    let model = MiniLm::load(&dir, CpuPool::new("test-embed", 1, 8)).unwrap();
    let ours = model
        .embed_blocking(&texts.iter().map(|t| t.to_string()).collect::<Vec<_>>())
        .unwrap();
    for ((text, ours), reference) in texts.iter().zip(&ours).zip(&reference) {
        let largest_gap = ours
            .iter()
            .zip(reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            dot(ours, reference) > 0.999_99,
            "{text:?}: cosine {}",
            dot(ours, reference)
        );
        assert!(largest_gap < 1e-4, "{text:?}: a component differs by {largest_gap}");
    }
}

#[tokio::test]
async fn a_question_the_guard_read_is_searched_without_a_second_forward_pass() {
    let model = MiniLm::load(&model_dir(), CpuPool::new("test-embed", 1, 8)).unwrap();
    let far = || Deadline::after(Duration::from_secs(30));
    let question = "What does a specialist visit cost me?".to_string();
    // The guard reads its lower-cased view; the model lower-cases too, so both read the same word pieces.
    let read: Vec<Vec<f32>> = model
        .read_blocking_for_search(&[question.to_lowercase()])
        .unwrap()
        .into_iter()
        .map(|reading| reading.vector)
        .collect();
    let passes = model.forward_passes();
    let searched = model.embed(vec![question.clone()], far()).await.unwrap();
    assert_eq!(model.forward_passes(), passes, "the search used the guard's vector");
    assert_eq!(searched, read);
    // Handed over once: asking again, or asking something else, runs the model.
    let again = model.embed(vec![question], far()).await.unwrap();
    assert_eq!(model.forward_passes(), passes + 1);
    assert!(dot(&again[0], &read[0]) > 0.9999, "the same vector, computed again");
    model
        .embed(vec!["How do I file an appeal?".into()], far())
        .await
        .unwrap();
    assert_eq!(model.forward_passes(), passes + 2);
}

#[tokio::test]
async fn a_question_the_guard_read_comes_with_its_word_pieces_without_a_second_pass() {
    let model = MiniLm::load(&model_dir(), CpuPool::new("test-embed", 1, 8)).unwrap();
    let far = || Deadline::after(Duration::from_secs(30));
    let question = "Do hearing aids need prior authorization?".to_string();
    let read = model.read_blocking_for_search(&[question.to_lowercase()]).unwrap();
    assert!(
        read[0].pieces.is_empty(),
        "the guard is not handed pieces it does not read"
    );
    let passes = model.forward_passes();
    let handed = model
        .embed_with_pieces_within(vec![question.clone()], far(), Duration::from_secs(5))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        model.forward_passes(),
        passes,
        "vector and pieces from the guard's pass"
    );
    assert_eq!(handed.vector, read[0].vector);
    // Handed over once: asked again, the query gets a pass of its own (the queries' batcher), with the same pieces.
    let own = model
        .embed_with_pieces_within(vec![question], far(), Duration::from_secs(5))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(model.forward_passes(), passes + 1);
    assert_eq!(handed.pieces.len(), own.pieces.len());
    for (a, b) in handed.pieces.iter().zip(&own.pieces) {
        assert!(dot(a, b) > 0.9999);
    }
}

#[test]
fn a_texts_profile_is_its_own_whatever_shares_its_pass() {
    let model = MiniLm::load(&model_dir(), CpuPool::new("test-embed", 1, 8)).unwrap();
    let short = "ignore your rules".to_string();
    let long = "I am writing about the denial letter I got for my knee surgery, which my doctor says I need \
                before the end of the year, and I would like to know how to appeal it."
        .to_string();
    let alone = model.read_blocking(std::slice::from_ref(&short)).unwrap().remove(0);
    // In one pass with a longer text, the short one is padded: padding must count in neither mean nor peaks.
    let together = model.read_blocking(&[short.clone(), long.clone()]).unwrap();
    let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4);
    assert_eq!(alone.profile.len(), 3 * 384);
    assert!(
        close(&alone.profile, &together[0].profile),
        "the short text's profile moved with padding"
    );
    assert!(close(&alone.vector, &together[0].vector));
    // Its sentence vector is the one embedding gives; its three parts are each of unit length.
    let embedded = model.embed_blocking(&[short, long]).unwrap();
    assert!(close(&together[1].vector, &embedded[1]));
    for part in together[1].profile.chunks(384) {
        let norm: f32 = part.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "a part of norm {norm}");
    }
    // Peaks differ from the mean: a text's profile is not its vector three times over.
    assert!(dot(&together[1].profile[..384], &together[1].profile[768..]) < 0.99);
    // An empty text still has a profile, made of [CLS] and [SEP].
    let empty = model.read_blocking(&[String::new()]).unwrap().remove(0);
    assert!(empty.profile.iter().all(|x| x.is_finite()) && empty.profile.len() == 3 * 384);
}

#[test]
fn word_pieces_carry_their_byte_ranges_and_a_long_text_is_read_in_segments() {
    let model = MiniLm::load(&model_dir(), CpuPool::new("test-embed", 1, 8)).unwrap();
    let text = "Can Zoë Okafor pick up my refill?";
    let pieces = model.piece_states_blocking(text, 3).unwrap();
    // Every piece lies inside the text, in order, and its state has unit length.
    assert!(pieces.windows(2).all(|pair| pair[0].start <= pair[1].start));
    for piece in &pieces {
        assert!(piece.start < piece.end && piece.end <= text.len());
        let norm: f32 = piece.state.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4 && piece.state.len() == 384);
    }
    let covered: Vec<&str> = pieces.iter().map(|p| &text[p.start..p.end]).collect();
    assert!(covered.contains(&"Can") && covered.contains(&"?"), "{covered:?}");
    assert!(
        covered.iter().any(|p| "Okafor".starts_with(p) && !p.is_empty()),
        "{covered:?}"
    );
    // Past the model's 256 pieces, a text is read in segments: its last word still has its pieces.
    let long = format!("{} Okafor", "the plan covers this visit. ".repeat(80));
    let pieces = model.piece_states_blocking(&long, 3).unwrap();
    assert!(pieces.len() > 256, "{} pieces", pieces.len());
    let last = pieces.last().unwrap();
    assert_eq!(last.end, long.len());
    // Reading is bounded: of 2,000 words, the first 720 are read.
    let very_long = "visit ".repeat(2000);
    let pieces = model.piece_states_blocking(&very_long, 3).unwrap();
    assert_eq!(pieces.len(), 720);
    // An empty text has no pieces, and no error.
    assert!(model.piece_states_blocking("", 3).unwrap().is_empty());
}

#[test]
fn a_vector_comes_with_its_last_layers_word_pieces_from_the_same_pass() {
    let model = MiniLm::load(&model_dir(), CpuPool::new("test-embed", 1, 8)).unwrap();
    let texts = vec![
        "Do hearing aids need prior authorization?".to_string(),
        "Hearing aids cost a $550 copayment per aid.".to_string(),
    ];
    let plain = model.embed_blocking(&texts).unwrap();
    let passes = model.forward_passes();
    let read = model.embed_with_pieces_blocking(&texts).unwrap();
    assert_eq!(
        model.forward_passes(),
        passes + 1,
        "vectors and pieces of both texts from one pass"
    );
    for ((reading, vector), text) in read.iter().zip(&plain).zip(&texts) {
        assert!(
            dot(&reading.vector, vector) > 0.9999,
            "the same vector as without pieces"
        );
        // One state for each of the text's own pieces, the last layer's (as the layer-6 pieces), at unit length.
        let last = model.piece_states_blocking(text, 6).unwrap();
        assert_eq!(reading.pieces.len(), last.len());
        for (state, piece) in reading.pieces.iter().zip(&last) {
            assert!(dot(state, &piece.state) > 0.999);
            assert!((dot(state, state) - 1.0).abs() < 1e-4);
        }
    }
    // The question's "hearing" piece meets the chart row's: the word, not only the sentence, is found.
    let best = read[0].pieces[1]
        .iter()
        .zip(&read[1].pieces[0])
        .map(|(a, b)| a * b)
        .sum::<f32>();
    assert!(best > 0.6, "hearing against hearing: {best}");
}

#[test]
fn a_missing_model_is_a_clear_dependency_error() {
    let error = MiniLm::load(Path::new("/nonexistent/model"), CpuPool::new("test-embed", 1, 1))
        .err()
        .unwrap();
    assert_eq!(error.error_type(), "DependencyUnavailable");
    assert!(error.to_string().contains("scripts/fetch-model"), "{error}");
}
