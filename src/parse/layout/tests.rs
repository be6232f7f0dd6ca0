//! Unit tests of the layout parser; the differential tests are at the end.

use super::*;
use crate::layout::filter::{ContextFilter, Skipped};
use crate::layout::Preset;
use crate::schema::Shape;
