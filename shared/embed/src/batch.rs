//! Micro-batching of one-text embeddings (search queries) on a CPU pool.
//!
//! Every caller queues its text and submits a job of its own to the pool. The first job to start embeds every text
//! waiting at that moment in one forward pass; a job that starts after its text was taken returns at once. Nothing
//! waits for a batch to fill: batches form only while callers already queue for the CPU, so an idle model answers at
//! once, and a saturated one does less work per query the longer its queue.

use navigator_platform::NavigatorError;
use navigator_resilience::{CpuPool, Deadline};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;

/// One forward pass: what it makes of each text (a vector, or a vector and word pieces), in order.
pub type Forward<T> = Arc<dyn Fn(&[String]) -> Result<Vec<T>, NavigatorError> + Send + Sync>;

type Reply<T> = oneshot::Sender<Result<T, NavigatorError>>;

struct Pending<T> {
    text: String,
    reply: Reply<T>,
}

/// The texts waiting for a forward pass, shared by every clone.
pub struct Batcher<T> {
    waiting: Arc<Mutex<Vec<Pending<T>>>>,
    forward: Forward<T>,
    max_batch: usize,
}

impl<T> Clone for Batcher<T> {
    fn clone(&self) -> Self {
        Self {
            waiting: Arc::clone(&self.waiting),
            forward: Arc::clone(&self.forward),
            max_batch: self.max_batch,
        }
    }
}

impl<T: Send + 'static> Batcher<T> {
    pub fn new(forward: Forward<T>, max_batch: usize) -> Self {
        Self {
            waiting: Arc::default(),
            forward,
            max_batch: max_batch.max(1),
        }
    }

    /// Embeds `text` on `pool`, in a batch with whatever else is waiting when a job starts. `budget`, if any, counts
    /// from when this caller's job starts (see [`CpuPool::run_for`]).
    pub async fn embed(
        &self,
        pool: &CpuPool,
        text: String,
        deadline: Deadline,
        budget: Option<Duration>,
    ) -> Result<T, NavigatorError> {
        let (reply, vector) = oneshot::channel();
        self.lock().push(Pending { text, reply });
        let this = self.clone();
        // On an error the text may still be queued; its closed reply keeps it out of every later batch.
        pool.run_for(deadline, budget, move || this.run_batch()).await?;
        // This job embedded the text, or found it taken by a batch that started earlier and may still be running.
        match deadline.run(vector).await {
            Ok(Ok(vector)) => vector,
            Ok(Err(_)) => Err(NavigatorError::internal("an embedding batch ended without a reply")),
            Err(_) => Err(NavigatorError::timeout("embed")),
        }
    }

    /// Takes every live text waiting now (up to the batch size), embeds them in one pass, and replies to each.
    fn run_batch(&self) {
        let batch: Vec<Pending<T>> = {
            let mut waiting = self.lock();
            waiting.retain(|pending| !pending.reply.is_closed());
            let size = waiting.len().min(self.max_batch);
            waiting.drain(..size).collect()
        };
        if batch.is_empty() {
            return;
        }
        let (texts, replies): (Vec<String>, Vec<Reply<T>>) = batch.into_iter().map(|p| (p.text, p.reply)).unzip();
        match (self.forward)(&texts) {
            Ok(vectors) if vectors.len() == replies.len() => {
                for (reply, vector) in replies.into_iter().zip(vectors) {
                    let _ = reply.send(Ok(vector));
                }
            }
            Ok(vectors) => {
                let error = NavigatorError::internal(format!(
                    "the model returned {} vectors for {} texts",
                    vectors.len(),
                    replies.len()
                ));
                replies
                    .into_iter()
                    .for_each(|reply| drop(reply.send(Err(error.clone()))));
            }
            Err(error) => replies
                .into_iter()
                .for_each(|reply| drop(reply.send(Err(error.clone())))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Pending<T>>> {
        // A panic while holding the lock cannot leave the list half-changed: every edit is one call.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Each pass's texts, in order.
    type Passes = Arc<Mutex<Vec<Vec<String>>>>;

    /// A model that records each pass's texts and maps a text to `[its length]`.
    fn recording() -> (Forward<Vec<f32>>, Passes) {
        let passes = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&passes);
        let forward: Forward<Vec<f32>> = Arc::new(move |texts: &[String]| {
            seen.lock().unwrap().push(texts.to_vec());
            Ok(texts.iter().map(|t| vec![t.len() as f32]).collect())
        });
        (forward, passes)
    }

    fn far() -> Deadline {
        Deadline::after(Duration::from_secs(30))
    }

    /// Holds the pool's only thread until the returned sender is dropped or sent to.
    async fn hold(pool: &CpuPool) -> (mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, held) = mpsc::channel::<()>();
        let pool_for_holder = pool.clone();
        let holder = tokio::spawn(async move {
            pool_for_holder.run(far(), move || held.recv().ok()).await.unwrap();
        });
        while pool.stats().in_flight == 0 {
            tokio::task::yield_now().await;
        }
        (release, holder)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queries_queued_for_the_cpu_share_one_forward_pass() {
        let (forward, passes) = recording();
        let batcher = Batcher::new(forward, 16);
        let pool = CpuPool::new("embed-test", 1, 16);
        let (release, holder) = hold(&pool).await;
        let callers: Vec<_> = ["a", "bb", "ccc", "dddd", "eeeee"]
            .into_iter()
            .map(|text| {
                let (batcher, pool) = (batcher.clone(), pool.clone());
                tokio::spawn(async move { batcher.embed(&pool, text.into(), far(), None).await })
            })
            .collect();
        while pool.stats().waiting < 5 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        holder.await.unwrap();
        for (caller, expected) in callers.into_iter().zip(1..) {
            assert_eq!(
                caller.await.unwrap().unwrap(),
                vec![expected as f32],
                "each caller gets its own vector"
            );
        }
        let passes = passes.lock().unwrap();
        assert_eq!(passes.len(), 1, "one pass for the five waiting: {passes:?}");
        assert_eq!(passes[0].len(), 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_idle_model_embeds_a_query_alone_and_at_once() {
        let (forward, passes) = recording();
        let batcher = Batcher::new(forward, 16);
        let pool = CpuPool::new("embed-test", 2, 16);
        assert_eq!(
            batcher.embed(&pool, "abc".into(), far(), None).await.unwrap(),
            vec![3.0]
        );
        assert_eq!(*passes.lock().unwrap(), vec![vec!["abc".to_string()]]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_gave_up_is_not_embedded_and_batches_keep_their_size() {
        let (forward, passes) = recording();
        let batcher = Batcher::new(forward, 2);
        let pool = CpuPool::new("embed-test", 1, 16);
        let (release, holder) = hold(&pool).await;
        let gave_up = batcher
            .embed(&pool, "late".into(), Deadline::after(Duration::from_millis(1)), None)
            .await;
        assert!(gave_up.is_err(), "its deadline passed while it queued");
        let callers: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|text| {
                let (batcher, pool) = (batcher.clone(), pool.clone());
                tokio::spawn(async move { batcher.embed(&pool, text.into(), far(), None).await })
            })
            .collect();
        while pool.stats().waiting < 3 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        holder.await.unwrap();
        for caller in callers {
            assert_eq!(caller.await.unwrap().unwrap(), vec![1.0]);
        }
        let passes = passes.lock().unwrap();
        let mut texts: Vec<&String> = passes.iter().flatten().collect();
        texts.sort();
        assert_eq!(texts, ["a", "b", "c"], "the abandoned text is never embedded");
        assert!(passes.iter().all(|pass| pass.len() <= 2), "{passes:?}");
    }

    #[tokio::test]
    async fn a_failed_pass_fails_every_caller_in_it() {
        let forward: Forward<Vec<f32>> = Arc::new(|_: &[String]| Err(NavigatorError::internal("model bug")));
        let batcher = Batcher::new(forward, 4);
        let pool = CpuPool::new("embed-test", 1, 4);
        let error = batcher.embed(&pool, "x".into(), far(), None).await.unwrap_err();
        assert_eq!(error, NavigatorError::internal("model bug"));
    }
}
