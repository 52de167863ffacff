//! Journeys through the portal in a real headless Chromium (Debian's `chromium`, driven through
//! `chromedriver`), against the `kaifang demo` binary. Screenshots of the key pages are kept
//! under `build-output/screenshots/` of the workspace for people to look at; they are not
//! compared with anything.
//!
//! When Chromium or chromedriver is missing the tests fail with the command that installs them:
//! a browser test that quietly passes without a browser would prove nothing.

mod journeys;
mod support;
