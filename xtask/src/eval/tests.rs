//! Tests of the evaluation: STOI against pystoi, MAC counts against the weight shapes, the pipeline end to end.

mod macs;
mod metrics;
mod pipeline;
mod stoi;
