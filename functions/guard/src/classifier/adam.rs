//! Adam, the optimiser both of the guard's trainers use: each weight's step follows its gradient's running mean over
//! its running size, so rare features (most of the hashed buckets) learn as fast as common ones. Full-batch and from
//! fixed starting weights, so the same data always gives the same model.

pub struct Adam {
    mean: Vec<f32>,
    square: Vec<f32>,
    step: i32,
}

impl Adam {
    const BETA1: f32 = 0.9;
    const BETA2: f32 = 0.999;

    /// An optimiser for `weights` weights, addressed by slot.
    pub fn new(weights: usize) -> Self {
        Self {
            mean: vec![0.0; weights],
            square: vec![0.0; weights],
            step: 0,
        }
    }

    /// Starts a step: every update until the next call belongs to it.
    pub fn begin_step(&mut self) {
        self.step += 1;
    }

    /// Moves the weight in `slot` against its gradient.
    pub fn update(&mut self, slot: usize, weight: &mut f32, gradient: f32, rate: f32) {
        let mean = &mut self.mean[slot];
        let square = &mut self.square[slot];
        *mean = Self::BETA1 * *mean + (1.0 - Self::BETA1) * gradient;
        *square = Self::BETA2 * *square + (1.0 - Self::BETA2) * gradient * gradient;
        let mean_hat = *mean / (1.0 - Self::BETA1.powi(self.step));
        let square_hat = *square / (1.0 - Self::BETA2.powi(self.step));
        *weight -= rate * mean_hat / (square_hat.sqrt() + 1e-8);
    }

    /// Moves the weights in the slots from `first` on against their gradients, with `l2` decay on each weight.
    pub fn update_all(&mut self, first: usize, weights: &mut [f32], gradients: &[f32], rate: f32, l2: f32) {
        for (i, (weight, gradient)) in weights.iter_mut().zip(gradients).enumerate() {
            let decayed = gradient + l2 * *weight;
            self.update(first + i, weight, decayed, rate);
        }
    }
}
