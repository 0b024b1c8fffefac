//! gix's progress tree, flattened onto one [`Task`] line: each step gix reports (negotiating,
//! receiving the pack, indexing, checking out) shows as `<step> <count>/<total> <unit>`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use gix::progress::{
    Count, Id, MessageLevel, NestedProgress, Progress, Step, StepShared, UNKNOWN, Unit,
};

use crate::progress::Task;

pub struct TaskProgress {
    task: Arc<dyn Task>,
    name: String,
    step: StepShared,
    max: Option<Step>,
    unit: Option<Unit>,
}

impl TaskProgress {
    pub fn new(task: Arc<dyn Task>) -> Self {
        Self {
            task,
            name: String::new(),
            step: Default::default(),
            max: None,
            unit: None,
        }
    }

    fn show(&self) {
        let step = self.step.load(Ordering::Relaxed);
        let count = match &self.unit {
            Some(u) => u.display(step, self.max, None).to_string(),
            None => match self.max {
                Some(m) => format!("{step}/{m}"),
                None => step.to_string(),
            },
        };
        self.task.detail(&format!("{} {count}", self.name));
    }
}

impl Count for TaskProgress {
    fn set(&self, step: Step) {
        self.step.store(step, Ordering::Relaxed);
        self.show();
    }

    fn step(&self) -> Step {
        self.step.load(Ordering::Relaxed)
    }

    fn inc_by(&self, step: Step) {
        self.step.fetch_add(step, Ordering::Relaxed);
        self.show();
    }

    fn counter(&self) -> StepShared {
        self.step.clone()
    }
}

impl Progress for TaskProgress {
    fn init(&mut self, max: Option<Step>, unit: Option<Unit>) {
        self.max = max;
        self.unit = unit;
        self.step.store(0, Ordering::Relaxed);
    }

    fn set_name(&mut self, name: String) {
        self.name = name;
    }

    fn name(&self) -> Option<String> {
        Some(self.name.clone())
    }

    fn id(&self) -> Id {
        UNKNOWN
    }

    fn message(&self, _level: MessageLevel, _message: String) {}
}

impl NestedProgress for TaskProgress {
    type SubProgress = TaskProgress;

    fn add_child(&mut self, name: impl Into<String>) -> Self::SubProgress {
        let mut child = TaskProgress::new(self.task.clone());
        child.name = name.into();
        child
    }

    fn add_child_with_id(&mut self, name: impl Into<String>, _id: Id) -> Self::SubProgress {
        self.add_child(name)
    }
}
