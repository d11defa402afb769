//! TARGET URLs: `http://…` and `https://…` (POST to that URL), with clear errors for
//! everything else (`sagemaker://` targets are read by `sagemaker::parse_target`).

use http::Uri;
use http::uri::PathAndQuery;

use crate::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// Where requests go: scheme, host, port and the path (with query) to POST to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: Scheme,
    /// The host as written, without IPv6 brackets.
    pub host: String,
    pub port: u16,
    pub path: Uri,
}

impl Endpoint {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let bad = |why: String| Error::Input(format!("target '{raw}': {why}"));
        if raw.starts_with("sagemaker://") {
            return Err(bad(
                "a sagemaker:// target names an endpoint, not a URL".into()
            ));
        }
        if !raw.contains("://") {
            return Err(bad(format!(
                "no scheme; write it as http://{raw} or https://{raw}"
            )));
        }
        let uri: Uri = raw
            .parse()
            .map_err(|e| Error::invalid(format!("target '{raw}': not a valid URL ({e})"), e))?;
        let scheme = match uri.scheme_str() {
            Some("http") => Scheme::Http,
            Some("https") => Scheme::Https,
            Some(other) => {
                return Err(bad(format!(
                    "unsupported scheme '{other}'; use http://, https:// or sagemaker://"
                )));
            }
            None => return Err(bad("no scheme; write it as http://HOST:PORT/PATH".into())),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| bad("no host; write it as http://HOST:PORT/PATH".into()))?;
        if authority.as_str().contains('@') {
            return Err(bad("user:password@ in the URL is not supported; pass credentials with -H 'Authorization: …'".into()));
        }
        let host = valid_host(authority.host()).ok_or_else(|| {
            bad(format!(
                "'{}' is not a host name or IP address; write it as http://HOST:PORT/PATH",
                authority.host()
            ))
        })?;
        let port = authority.port_u16().unwrap_or(match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        });
        let path = uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        Ok(Endpoint {
            scheme,
            host: host.to_string(),
            port,
            path: Uri::from(path),
        })
    }

    /// `host:port` as the Host header and messages write it (IPv6 in brackets).
    pub fn authority(&self) -> String {
        let default_port = match self.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The URL again, as the user would write it.
    pub fn url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        format!("{scheme}://{}{}", self.authority(), self.path)
    }
}

/// The host without IPv6 brackets, when it is an IP address or a DNS name.
fn valid_host(raw: &str) -> Option<&str> {
    if let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok().then_some(inner);
    }
    let name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    (!raw.is_empty() && raw.chars().all(name_char)).then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_https_and_ipv6() {
        let e = Endpoint::parse("http://127.0.0.1:8080/invocations").unwrap();
        assert_eq!(
            (e.scheme, e.host.as_str(), e.port),
            (Scheme::Http, "127.0.0.1", 8080)
        );
        assert_eq!(e.path, "/invocations");
        let e = Endpoint::parse("https://example.com/v1/predict?x=1").unwrap();
        assert_eq!((e.scheme, e.port), (Scheme::Https, 443));
        assert_eq!(e.path, "/v1/predict?x=1");
        assert_eq!(e.url(), "https://example.com/v1/predict?x=1");
        let e = Endpoint::parse("http://[::1]:9000/invocations").unwrap();
        assert_eq!(e.host, "::1");
        assert_eq!(e.authority(), "[::1]:9000");
        let e = Endpoint::parse("http://localhost").unwrap();
        assert_eq!((e.port, e.path.to_string().as_str()), (80, "/"));
    }

    #[test]
    fn rejects_with_a_reason() {
        let msg = |s: &str| Endpoint::parse(s).unwrap_err().to_string();
        assert!(msg("localhost:8080/invocations").contains("no scheme"));
        assert!(msg("ftp://host/x").contains("unsupported scheme 'ftp'"));
        assert!(msg("http://").contains("target 'http://'"));
        assert!(msg("http://exa mple.com/").contains("not a valid URL"));
        assert!(msg("http://[%]/x").contains("not a host name or IP address"));
        assert!(msg("http://[::1x]/x").contains("not a host name or IP address"));
        assert!(msg("sagemaker://my-endpoint").contains("not a URL"));
    }
}
