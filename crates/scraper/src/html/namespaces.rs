//! The tree builder's say in tokenizing, simulated without a tree: a stack of namespaces.
//!
//! Whether `<title>` or `<style>` starts a text element, and whether `<![CDATA[` opens a CDATA
//! section, depends on whether the parser is in HTML or in SVG/MathML ("foreign content"). The
//! stack follows `<svg>`, `<math>`, their HTML integration points (`<foreignObject>`, `<desc>`,
//! `<title>` in SVG; `<mi>`, `<mo>`, `<mn>`, `<ms>`, `<mtext>` in MathML) and the HTML tags that
//! end foreign content (`<p>`, `<div>`, ...), as lol_html's simulator does.

/// Nesting deeper than this is not followed (the stack stays bounded on hostile input).
const MAX_DEPTH: usize = 256;

/// Where an element lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Namespace {
    Html,
    Svg,
    MathMl,
}

/// The stack of namespaces entered; empty means HTML.
#[derive(Debug, Default)]
pub(super) struct Namespaces {
    stack: Vec<Namespace>,
}

impl Namespaces {
    /// The namespace new elements go in.
    pub fn current(&self) -> Namespace {
        self.stack.last().copied().unwrap_or(Namespace::Html)
    }

    fn enter(&mut self, namespace: Namespace) {
        if self.stack.len() < MAX_DEPTH {
            self.stack.push(namespace);
        }
    }

    /// A start tag (name lowercased): returns the namespace of the element it creates.
    pub fn start_tag(&mut self, name: &[u8], self_closing: bool) -> Namespace {
        let current = self.current();
        if current != Namespace::Html && ends_foreign_content(name) {
            self.stack.pop();
            return self.start_tag(name, self_closing);
        }
        if !self_closing {
            let integration_point = match current {
                Namespace::Html => false,
                Namespace::Svg => matches!(name, b"foreignobject" | b"desc" | b"title"),
                Namespace::MathMl => matches!(name, b"mi" | b"mo" | b"mn" | b"ms" | b"mtext"),
            };
            if integration_point {
                self.enter(Namespace::Html);
            } else if name == b"svg" {
                self.enter(Namespace::Svg);
                return Namespace::Svg;
            } else if name == b"math" {
                self.enter(Namespace::MathMl);
                return Namespace::MathMl;
            }
        }
        match name {
            b"svg" => Namespace::Svg,
            b"math" => Namespace::MathMl,
            _ => current,
        }
    }

    /// An end tag (name lowercased).
    pub fn end_tag(&mut self, name: &[u8]) {
        let leaves = match self.current() {
            Namespace::Html => {
                let outer = self.stack.len().checked_sub(2).map(|at| self.stack[at]);
                match outer {
                    Some(Namespace::Svg) => matches!(name, b"foreignobject" | b"desc" | b"title"),
                    Some(Namespace::MathMl) => {
                        matches!(name, b"mi" | b"mo" | b"mn" | b"ms" | b"mtext")
                    }
                    _ => false,
                }
            }
            Namespace::Svg => matches!(name, b"svg" | b"p" | b"br"),
            Namespace::MathMl => matches!(name, b"math" | b"p" | b"br"),
        };
        if leaves {
            self.stack.pop();
        }
    }
}

/// HTML start tags that end foreign content (HTML Standard §13.2.6.5).
fn ends_foreign_content(name: &[u8]) -> bool {
    matches!(
        name,
        b"b" | b"big"
            | b"blockquote"
            | b"body"
            | b"br"
            | b"center"
            | b"code"
            | b"dd"
            | b"div"
            | b"dl"
            | b"dt"
            | b"em"
            | b"embed"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"head"
            | b"hr"
            | b"i"
            | b"img"
            | b"li"
            | b"listing"
            | b"menu"
            | b"meta"
            | b"nobr"
            | b"ol"
            | b"p"
            | b"pre"
            | b"ruby"
            | b"s"
            | b"small"
            | b"span"
            | b"strong"
            | b"strike"
            | b"sub"
            | b"sup"
            | b"table"
            | b"tt"
            | b"u"
            | b"ul"
            | b"var"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_and_its_integration_points() {
        let mut ns = Namespaces::default();
        assert_eq!(ns.start_tag(b"svg", false), Namespace::Svg);
        assert_eq!(ns.start_tag(b"title", false), Namespace::Svg);
        assert_eq!(ns.current(), Namespace::Html, "inside <title> is HTML");
        ns.end_tag(b"title");
        assert_eq!(ns.current(), Namespace::Svg);
        assert_eq!(
            ns.start_tag(b"p", false),
            Namespace::Html,
            "<p> ends the SVG"
        );
        assert_eq!(ns.current(), Namespace::Html);
        assert_eq!(ns.start_tag(b"svg", true), Namespace::Svg);
        assert_eq!(ns.current(), Namespace::Html, "<svg/> is empty");
    }
}
