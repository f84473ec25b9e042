//! Training the query adapter: full-batch Adam over a softmax of each question against every chunk and every
//! sentence of the plan, with a "no answer here" option for the questions the plan does not answer.
//!
//! For a question `q`, the adapted vector is `a = A·q / |A·q|`, and each passage `p` scores `a·p / τ`. The loss is
//! the cross-entropy of the answering passages (shared equally when several hold the answer) against all passages
//! and one more option, "none of these", whose logit `b / τ` is learned with the matrix. A question the plan does
//! not answer has "none of these" as its answer: the adapter learns to move such questions away from every passage,
//! which is what lets a similarity threshold decline them. `A` starts at the identity and an L2 penalty holds it
//! near it, so a question unlike any it was trained on keeps about its plain vector. The same loss is taken once over
//! the chunks (what the search ranks) and once over the sentences (what the composer quotes).
//!
//! Deterministic: no random draws, one thread, a fixed order.

/// One training question: its plain vector, and the passages that answer it (none for a question the plan does not
/// answer).
#[derive(Debug, Clone)]
pub struct AdapterExample {
    pub vector: Vec<f32>,
    /// Indices into the chunk vectors of the chunks that hold an answer fact.
    pub chunks: Vec<usize>,
    /// Indices into the sentence vectors of the sentences that hold one.
    pub sentences: Vec<usize>,
}

impl AdapterExample {
    fn is_negative(&self) -> bool {
        self.chunks.is_empty()
    }
}

/// The trainer's settings (`train-query-adapter` documents how they were chosen).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainSettings {
    pub epochs: usize,
    /// Adam's step size for the matrix (the "none" logits take ten times it: they move in logit units).
    pub learning_rate: f64,
    /// The penalty on `A − I`: `l2 / 2` times the sum of its squared entries (its gradient is `l2 · (A − I)`).
    pub l2: f64,
    /// The softmax temperature τ.
    pub temperature: f64,
    /// How much a question the plan does not answer weighs against one it answers.
    pub negative_weight: f64,
    /// The "none of these" similarity the training starts from, for chunks and for sentences. Training moves it
    /// little (by at most `10 · learning_rate · τ` an epoch: 0.6 → 0.57 for the shipped adapter), so it is a
    /// setting more than a learned value; what the training learns is to move unanswered questions below it.
    pub initial_none: [f64; 2],
}

impl TrainSettings {
    /// The shipped adapter's, chosen on the answers' tuning half against a negative weight of 3 and against 100
    /// epochs at L2 0.03 (docs/RETRIEVAL.md, "The query adapter").
    pub const SHIPPED: Self = Self {
        epochs: 60,
        learning_rate: 1e-3,
        l2: 1e-2,
        temperature: 0.05,
        negative_weight: 1.0,
        initial_none: [0.6, 0.7],
    };
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self::SHIPPED
    }
}

/// What the training did: the mean loss at each epoch and where the "none of these" similarities ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    pub losses: Vec<f64>,
    /// Where the "none of these" similarities ended, for chunks and sentences.
    pub none_similarity: [f64; 2],
}

/// Trains `A` (row-major, `d × d`, `d` the vectors' length) from `examples` over the plan's chunk and sentence
/// vectors (unit length, as stored). No examples, no matrix.
pub fn train(
    examples: &[AdapterExample],
    chunks: &[Vec<f32>],
    sentences: &[Vec<f32>],
    settings: &TrainSettings,
) -> (Vec<f64>, TrainReport) {
    let d = examples.first().map_or(0, |e| e.vector.len());
    if d == 0 {
        return (
            Vec::new(),
            TrainReport {
                losses: Vec::new(),
                none_similarity: settings.initial_none,
            },
        );
    }
    let mut matrix = identity(d);
    let mut adam = Adam::new(d * d);
    let mut none = [
        settings.initial_none[0] / settings.temperature,
        settings.initial_none[1] / settings.temperature,
    ];
    let mut none_adam = Adam::new(2);
    let lists: [&[Vec<f32>]; 2] = [chunks, sentences];
    let mut losses = Vec::with_capacity(settings.epochs);
    let total_weight: f64 = examples
        .iter()
        .map(|e| if e.is_negative() { settings.negative_weight } else { 1.0 })
        .sum();
    // Each question's vector in the training's precision, once rather than every epoch.
    let questions: Vec<Vec<f64>> = examples
        .iter()
        .map(|e| e.vector.iter().map(|&x| f64::from(x)).collect())
        .collect();
    for _ in 0..settings.epochs {
        let mut gradient = vec![0.0; d * d];
        let mut none_gradient = [0.0; 2];
        let mut loss = 0.0;
        for (example, q) in examples.iter().zip(&questions) {
            let weight = if example.is_negative() {
                settings.negative_weight
            } else {
                1.0
            };
            let z = multiply(&matrix, q);
            let length = z.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
            let a: Vec<f64> = z.iter().map(|x| x / length).collect();
            // ∂loss/∂a, summed over the two lists.
            let mut loss_by_adapted = vec![0.0; d];
            for (list, (passages, answers)) in lists.iter().zip([&example.chunks, &example.sentences]).enumerate() {
                if passages.is_empty() || (!example.is_negative() && answers.is_empty()) {
                    continue;
                }
                let mut logits: Vec<f64> = passages
                    .iter()
                    .map(|p| p.iter().zip(&a).map(|(x, y)| f64::from(*x) * y).sum::<f64>() / settings.temperature)
                    .collect();
                logits.push(none[list]);
                let probabilities = softmax(&logits);
                let mut target = vec![0.0; logits.len()];
                if example.is_negative() {
                    target[passages.len()] = 1.0;
                } else {
                    // An index past the passages would land on "none of these": it is not an answer.
                    let answers: Vec<usize> = answers.iter().copied().filter(|&i| i < passages.len()).collect();
                    for &i in &answers {
                        target[i] += 1.0 / answers.len() as f64;
                    }
                }
                loss -= weight
                    * target
                        .iter()
                        .zip(&probabilities)
                        .filter(|(t, _)| **t > 0.0)
                        .map(|(t, p)| t * p.max(1e-300).ln())
                        .sum::<f64>();
                for (i, passage) in passages.iter().enumerate() {
                    let error = weight * (probabilities[i] - target[i]) / settings.temperature;
                    if error != 0.0 {
                        for (t, x) in loss_by_adapted.iter_mut().zip(passage) {
                            *t += error * f64::from(*x);
                        }
                    }
                }
                none_gradient[list] += weight * (probabilities[passages.len()] - target[passages.len()]);
            }
            // Through the normalisation: ∂loss/∂z = (g − a (a·g)) / |z|; ∂loss/∂A = ∂loss/∂z ⊗ q.
            let radial = loss_by_adapted.iter().zip(&a).map(|(g, x)| g * x).sum::<f64>();
            for i in 0..d {
                let dz = (loss_by_adapted[i] - a[i] * radial) / length;
                if dz != 0.0 {
                    let row = &mut gradient[i * d..(i + 1) * d];
                    for (g, x) in row.iter_mut().zip(q) {
                        *g += dz * x;
                    }
                }
            }
        }
        let scale = 1.0 / total_weight.max(1.0);
        for (i, g) in gradient.iter_mut().enumerate() {
            let delta = matrix[i] - if i % (d + 1) == 0 { 1.0 } else { 0.0 };
            *g = *g * scale + settings.l2 * delta;
        }
        adam.step(&mut matrix, &gradient, settings.learning_rate);
        let none_gradient = [none_gradient[0] * scale, none_gradient[1] * scale];
        none_adam.step(&mut none, &none_gradient, 10.0 * settings.learning_rate);
        losses.push(loss * scale);
    }
    let report = TrainReport {
        losses,
        none_similarity: [none[0] * settings.temperature, none[1] * settings.temperature],
    };
    (matrix, report)
}

fn identity(d: usize) -> Vec<f64> {
    let mut matrix = vec![0.0; d * d];
    for i in 0..d {
        matrix[i * d + i] = 1.0;
    }
    matrix
}

fn multiply(matrix: &[f64], vector: &[f64]) -> Vec<f64> {
    matrix
        .chunks_exact(vector.len().max(1))
        .map(|row| row.iter().zip(vector).map(|(w, x)| w * x).sum())
        .collect()
}

fn softmax(logits: &[f64]) -> Vec<f64> {
    let largest = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = logits.iter().map(|l| (l - largest).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

/// Adam (Kingma and Ba) with the usual moments, 0.9 and 0.999.
struct Adam {
    first: Vec<f64>,
    second: Vec<f64>,
    steps: i32,
}

impl Adam {
    fn new(n: usize) -> Self {
        Self {
            first: vec![0.0; n],
            second: vec![0.0; n],
            steps: 0,
        }
    }

    fn step(&mut self, weights: &mut [f64], gradient: &[f64], rate: f64) {
        const BETA1: f64 = 0.9;
        const BETA2: f64 = 0.999;
        self.steps += 1;
        let (c1, c2) = (1.0 - BETA1.powi(self.steps), 1.0 - BETA2.powi(self.steps));
        for (((w, g), m), v) in weights
            .iter_mut()
            .zip(gradient)
            .zip(&mut self.first)
            .zip(&mut self.second)
        {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            *w -= rate * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
        }
    }
}
