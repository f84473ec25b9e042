//! The in-process adapter: each tool's library called directly, through the same envelope parsing and input checks
//! as its Lambda, so a turn behaves the same locally as deployed.

use futures_util::future::BoxFuture;
use navigator_lambda::Tool;
use navigator_platform::NavigatorError;
use navigator_platform::envelope::parse_invocation;
use navigator_resilience::{CpuLoad, CpuPool};
use std::collections::HashMap;
use std::sync::Arc;

use super::{ToolInvoker, ToolName, WireRequest};

/// A tool behind the wire form.
trait WireTool: Send + Sync {
    fn call(&self, request: WireRequest) -> BoxFuture<'_, Result<serde_json::Value, NavigatorError>>;
}

struct Typed<T>(T);

impl<T: Tool> WireTool for Typed<T> {
    fn call(&self, request: WireRequest) -> BoxFuture<'_, Result<serde_json::Value, NavigatorError>> {
        Box::pin(async move {
            let payload = serde_json::to_value(request).map_err(NavigatorError::internal)?;
            let invocation = parse_invocation::<T::Input>(payload)?;
            let output = self.0.call(invocation).await?;
            serde_json::to_value(output).map_err(NavigatorError::internal)
        })
    }
}

/// The tools this process hosts.
#[derive(Default, Clone)]
pub struct InProcess {
    tools: HashMap<ToolName, Arc<dyn WireTool>>,
    cpu_pools: Vec<CpuPool>,
}

impl InProcess {
    pub fn new() -> Self {
        Self::default()
    }

    /// Hosts `tool` as `name`.
    pub fn with<T: Tool>(mut self, name: ToolName, tool: T) -> Self {
        self.cpu_pools.extend(tool.cpu_pools());
        self.tools.insert(name, Arc::new(Typed(tool)));
        self
    }

    /// The CPU pools of every hosted tool, for admission.
    pub fn cpu_load(&self) -> CpuLoad {
        CpuLoad::new(self.cpu_pools.iter().cloned())
    }
}

impl ToolInvoker for InProcess {
    fn provides(&self, tool: ToolName) -> bool {
        self.tools.contains_key(&tool)
    }

    fn invoke(&self, tool: ToolName, request: WireRequest) -> BoxFuture<'_, Result<serde_json::Value, NavigatorError>> {
        match self.tools.get(&tool) {
            Some(hosted) => hosted.call(request),
            None => Box::pin(async move { Err(NavigatorError::rejected(format!("{tool} is not configured"), None)) }),
        }
    }
}
