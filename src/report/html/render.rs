//! The template engine set up for the reports: the templates compiled into the binary,
//! HTML auto-escaping everywhere, and a page of its own should a template ever fail.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, Output, State, UndefinedBehavior, escape_formatter};
use serde::Serialize;

use super::CONTENT_SECURITY_POLICY;
use crate::Error;
use crate::report::svg::esc;

/// Every template, by name; the `.html` names turn HTML auto-escaping on.
const TEMPLATES: [(&str, &str); 6] = [
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("find.html", include_str!("../templates/find.html")),
    ("run.html", include_str!("../templates/run.html")),
    ("simulate.html", include_str!("../templates/simulate.html")),
    ("compare.html", include_str!("../templates/compare.html")),
];

/// Renders template `name` over `view`.
pub(super) fn render(name: &str, view: &impl Serialize) -> Result<String, Error> {
    let env = environment().map_err(template_error)?;
    let template = env.get_template(name).map_err(template_error)?;
    template.render(Serde(view)).map_err(template_error)
}

fn template_error(e: minijinja::Error) -> Error {
    Error::Run(format!("the HTML report could not be rendered: {e:#}"))
}

/// The templates, strict about undefined names (a misspelt field is an error, not an empty
/// cell), with the policy and version every page carries.
fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_formatter(escaping_formatter);
    env.add_global(
        "csp",
        Value::from_safe_string(CONTENT_SECURITY_POLICY.into()),
    );
    env.add_global("version", env!("CARGO_PKG_VERSION"));
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Prints a value into an HTML template escaped with `esc`, the escaping the SVG charts use,
/// unless it was marked safe (the charts themselves, the policy, rendered macros).
fn escaping_formatter(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if value.is_safe() || !matches!(state.auto_escape(), AutoEscape::Html) {
        return escape_formatter(out, state, value);
    }
    out.write_str(&esc(&value.to_string()))
        .map_err(minijinja::Error::from)
}

/// The page written instead of a report whose template failed. That is a bug (the tests
/// render every template over the fixtures), but it must not end the command in a panic;
/// this page cannot use the templates, so its little markup is here.
pub(in crate::report) fn error_page(error: &Error) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\"><title>peakrps: no report</title></head><body><p>{}</p></body></html>\n",
        esc(&error.to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = environment().expect("the templates compile");
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_failed_render_is_an_error_and_a_page_not_a_panic() {
        let err = render("find.html", &()).expect_err("no fields to render");
        let page = error_page(&err);
        assert!(page.contains("could not be rendered") && page.contains("</html>"));
    }

    #[test]
    fn text_is_escaped_and_safe_markup_is_not() {
        let view =
            serde_json::json!({ "head": { "title": "<b>'a' & \"b\"</b> req/s", "subtitle": "" } });
        let mut env = environment().expect("the templates compile");
        env.add_template("t.html", "{{ head.title }}|{{ csp }}")
            .expect("compiles");
        let text = env
            .get_template("t.html")
            .and_then(|t| t.render(Serde(&view)))
            .expect("renders");
        assert_eq!(
            text,
            format!(
                "&lt;b&gt;&#39;a&#39; &amp; &quot;b&quot;&lt;/b&gt; req/s|{CONTENT_SECURITY_POLICY}"
            )
        );
    }
}
