use super::*;

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn unit(values: &[f32]) -> Vec<f32> {
    let mut v = values.to_vec();
    navigator_embed::normalize(&mut v);
    v
}

#[test]
fn the_identity_leaves_a_vector_as_it_was() {
    let adapter = QueryAdapter::from_matrix("m", 3, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]).unwrap();
    let v = unit(&[0.2, -0.5, 0.8]);
    let adapted = adapter.apply(&v);
    for (a, b) in adapted.iter().zip(&v) {
        assert!((a - b).abs() < 1e-6, "{adapted:?} against {v:?}");
    }
}

#[test]
fn a_quantised_matrix_maps_close_to_the_exact_one() {
    let d = 16;
    let matrix: Vec<f64> = (0..d * d)
        .map(|k| {
            let (i, j) = (k / d, k % d);
            f64::from(u8::from(i == j)) + 0.05 * (((i * 7 + j * 13) % 11) as f64 - 5.0) / 5.0
        })
        .collect();
    let adapter = QueryAdapter::from_matrix("m", d, &matrix).unwrap();
    let v = unit(&(0..d).map(|i| (i as f32 * 0.37).sin()).collect::<Vec<_>>());
    let exact: Vec<f32> = matrix
        .chunks_exact(d)
        .map(|row| row.iter().zip(&v).map(|(w, x)| *w as f32 * x).sum())
        .collect();
    let exact = unit(&exact);
    assert!(cosine(&adapter.apply(&v), &exact) > 0.9999);
}

#[test]
fn the_stored_form_reads_back_and_a_damaged_one_is_refused() {
    let matrix: Vec<f64> = (0..4).map(|k| if k % 3 == 0 { 1.0 } else { 0.25 }).collect();
    let adapter = QueryAdapter::from_matrix("sentence-transformers/test", 2, &matrix).unwrap();
    let bytes = adapter.to_bytes();
    assert_eq!(QueryAdapter::from_bytes(&bytes).unwrap(), adapter);

    assert!(QueryAdapter::from_bytes(b"NQA0").is_err(), "another format");
    assert!(
        QueryAdapter::from_bytes(&bytes[..bytes.len() - 1]).is_err(),
        "cut short"
    );
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(QueryAdapter::from_bytes(&longer).is_err(), "bytes after the weights");
    assert!(QueryAdapter::from_matrix("m", 3, &[1.0; 4]).is_err(), "not square");
    let mut not_finite = bytes.clone();
    let scale_at = 4 + 2 + "sentence-transformers/test".len() + 4;
    not_finite[scale_at..scale_at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(
        QueryAdapter::from_bytes(&not_finite).is_err(),
        "a scale that is not a number"
    );
    let mut too_wide = bytes.clone();
    too_wide[scale_at - 4..scale_at].copy_from_slice(&100_000u32.to_le_bytes());
    assert!(QueryAdapter::from_bytes(&too_wide).is_err(), "dimensions out of range");
}

#[test]
fn a_vector_of_another_length_is_not_mapped() {
    let adapter = QueryAdapter::from_matrix("m", 2, &[0.0, 1.0, 1.0, 0.0]).unwrap();
    assert_eq!(adapter.apply(&[1.0, 0.0, 0.0]), vec![1.0, 0.0, 0.0]);
}

#[test]
fn the_shipped_adapter_is_for_the_local_sentence_model() {
    let adapter = QueryAdapter::embedded().unwrap();
    assert_eq!(adapter.model(), navigator_embed::MINILM_MODEL);
    assert_eq!(adapter.dimensions(), 384);
}

/// Four passages on the axes. A question that reads like passage 0 but is answered by passage 1, and a question
/// between passages 2 and 3 that nothing answers.
fn toy() -> (Vec<AdapterExample>, Vec<Vec<f32>>) {
    let passages: Vec<Vec<f32>> = (0..4)
        .map(|i| (0..4).map(|j| f32::from(u8::from(i == j))).collect())
        .collect();
    let examples = vec![
        AdapterExample {
            vector: unit(&[0.9, 0.3, 0.1, 0.0]),
            chunks: vec![1],
            sentences: vec![1],
        },
        AdapterExample {
            vector: unit(&[0.1, 0.0, 0.7, 0.7]),
            chunks: Vec::new(),
            sentences: Vec::new(),
        },
    ];
    (examples, passages)
}

#[test]
fn training_moves_a_question_to_its_answer_and_an_unanswered_one_away_from_every_passage() {
    let (examples, passages) = toy();
    let settings = TrainSettings {
        epochs: 300,
        learning_rate: 0.01,
        l2: 0.0,
        initial_none: [0.5, 0.5],
        ..TrainSettings::default()
    };
    let (matrix, report) = train(&examples, &passages, &passages, &settings);
    let adapter = QueryAdapter::from_matrix("m", 4, &matrix).unwrap();

    let answered = adapter.apply(&examples[0].vector);
    assert!(
        cosine(&answered, &passages[1]) > cosine(&answered, &passages[0]),
        "the answer now leads: {answered:?}"
    );
    let plain_best = |v: &[f32]| passages.iter().map(|p| cosine(v, p)).fold(f32::MIN, f32::max);
    let unanswered = adapter.apply(&examples[1].vector);
    assert!(
        plain_best(&unanswered) < plain_best(&examples[1].vector) - 0.1,
        "nothing is close any more: {unanswered:?}"
    );
    assert!(report.losses.last().unwrap() < report.losses.first().unwrap());
}

#[test]
fn training_is_deterministic_and_the_penalty_holds_the_map_near_the_identity() {
    let (examples, passages) = toy();
    let free = TrainSettings {
        l2: 0.0,
        ..TrainSettings::default()
    };
    let held = TrainSettings {
        l2: 10.0,
        ..TrainSettings::default()
    };
    let (first, _) = train(&examples, &passages, &passages, &free);
    let (again, _) = train(&examples, &passages, &passages, &free);
    assert_eq!(first, again);
    let (penalised, _) = train(&examples, &passages, &passages, &held);
    let distance = |m: &[f64]| {
        m.iter()
            .enumerate()
            .map(|(k, w)| (w - f64::from(u8::from(k % 5 == 0))).powi(2))
            .sum::<f64>()
    };
    assert!(distance(&penalised) < distance(&first));
}
