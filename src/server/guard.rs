//! What the web configuration puts in front of every endpoint: basic
//! authentication (answered 401 without running the handler, 503 when too
//! many password checks are in progress) and the
//! configured response headers (on every answer, 401 and 404 included),
//! both as the web configuration file says at the time of the request.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::webconfig::{LiveWebConfig, Verdict};

/// Wraps `router` (every route and the fallback) in the web configuration's
/// authentication and headers.
pub fn protect(router: Router, web: Arc<LiveWebConfig>) -> Router {
    router.layer(middleware::from_fn_with_state(web, guard))
}

async fn guard(State(web): State<Arc<LiveWebConfig>>, request: Request, next: Next) -> Response {
    let web = web.current();
    let verdict = match &web.users {
        None => Verdict::Allowed,
        Some(users) => {
            users
                .verdict(
                    request
                        .headers()
                        .get(header::AUTHORIZATION)
                        .map(HeaderValue::as_bytes),
                )
                .await
        }
    };
    let mut response = match verdict {
        Verdict::Allowed => next.run(request).await,
        Verdict::Denied => (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"appliance_exporter\"",
            )],
            "Unauthorized\n",
        )
            .into_response(),
        Verdict::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "too many password checks in progress; try again\n",
        )
            .into_response(),
    };
    for (name, value) in &web.headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}
