//! PLACEHOLDER: the Duplicate engine is being written (issue 7). Every method below is to be
//! replaced by the real one.

use super::{Engine, RenderCx, Resources};
use crate::emit::{EmitError, GeneratedFile};
use crate::fold::Fold;
use crate::ir::{Duplicate, TensorType};

impl Engine for Duplicate {
    fn module_suffix(&self) -> &'static str {
        "duplicate"
    }
    fn template(&self) -> &'static str {
        "engines/duplicate.v"
    }
    fn purpose(&self) -> &'static str {
        "Duplicate"
    }
    fn datapath(&self) -> &'static str {
        "duplicate"
    }
    fn fold_space(&self, _ins: &[TensorType]) -> (Vec<usize>, Vec<usize>) {
        (vec![1], vec![1])
    }
    fn fold_terms(&self, _ins: &[TensorType]) -> (String, Option<String>) {
        ("1".into(), None)
    }
    fn lanes(&self, _fold: Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![1], vec![1])
    }
    fn exp_cycles(&self, ins: &[TensorType], _fold: Fold) -> u64 {
        ins[0].elems() as u64
    }
    fn work(&self, ins: &[TensorType]) -> u64 {
        ins[0].elems() as u64
    }
    fn resources(&self, _ins: &[TensorType], _fold: Fold) -> Resources {
        Resources::default()
    }
    fn describe(&self, _ins: &[TensorType], _fold: Fold) -> Vec<String> {
        Vec::new()
    }
    fn uses_mem(&self) -> bool {
        false
    }
    fn render(&self, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
        Err(EmitError::Unsupported {
            node: cx.module.to_string(),
            kind: "Duplicate",
            why: "not implemented yet".into(),
        })
    }
}
