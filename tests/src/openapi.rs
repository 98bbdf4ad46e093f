//! Reading the served OpenAPI document and checking real answers against it.

use jsonschema::{Draft, Validator};
use serde_json::{json, Value};

use crate::{Reply, TestApp};

/// The methods an OpenAPI path item can hold that this API could use.
pub const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// The document a server serves at `/openapi.json`.
pub struct Document(pub Value);

impl Document {
    /// Fetches `app`'s document.
    pub async fn fetch(app: &TestApp) -> Document {
        let reply = app.get("/openapi.json").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        Document(reply.body)
    }

    /// Every `(method, path template)` the document lists, methods lowercase.
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut operations = Vec::new();
        for (path, item) in self.0["paths"].as_object().expect("paths") {
            for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
                operations.push((method.to_string(), path.clone()));
            }
        }
        operations.sort();
        operations
    }

    /// The operation object for `method` (lowercase) on `path` (a template).
    pub fn operation(&self, method: &str, path: &str) -> &Value {
        let operation = &self.0["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        operation
    }

    /// A validator for `schema`, whose `$ref`s resolve into this document's components.
    pub fn validator(&self, schema: &Value) -> Validator {
        let mut root = schema.clone();
        if let Some(object) = root.as_object_mut() {
            object.insert("components".into(), self.0["components"].clone());
        } else {
            root = json!({"allOf": [schema], "components": self.0["components"]});
        }
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .expect("the document's schemas compile")
    }

    /// A validator for the component schema `name`.
    pub fn component(&self, name: &str) -> Validator {
        self.validator(&json!({"$ref": format!("#/components/schemas/{name}")}))
    }

    /// Asserts that `reply` to `method path` is documented: its status is listed (and its
    /// `error_code`, for a refusal), its documented headers are present, and a documented JSON
    /// body validates against its schema.
    pub fn assert_conforms(&self, method: &str, path: &str, reply: &Reply) {
        let operation = self.operation(method, path);
        let status = reply.status.as_u16().to_string();
        let response = &operation["responses"][&status];
        assert!(
            response.is_object(),
            "{method} {path} answered {status}, which is not documented: {}",
            reply.body
        );
        for (name, _) in response["headers"].as_object().into_iter().flatten() {
            if name != "Location" || status == "201" {
                assert!(
                    reply.header(name).is_some(),
                    "{method} {path} {status}: missing documented header {name}"
                );
            }
        }
        match response["content"].as_object() {
            None => assert_eq!(reply.body, Value::Null, "{method} {path} {status}"),
            Some(content) => {
                let (media_type, media) = content.iter().next().expect("a media type");
                if let Some(code) = reply.body["error_code"].as_str() {
                    assert!(
                        media["examples"].get(code).is_some(),
                        "{method} {path} answered {status} `{code}`, which is not documented \
                         under {status}: {}",
                        reply.body
                    );
                }
                assert_eq!(reply.header("content-type"), Some(media_type.as_str()));
                let validator = self.validator(&media["schema"]);
                let errors: Vec<String> = validator
                    .iter_errors(&reply.body)
                    .map(|e| format!("{e} at {}", e.instance_path()))
                    .collect();
                assert!(
                    errors.is_empty(),
                    "{method} {path} {status} does not match its schema: {errors:?}\n{}",
                    reply.body
                );
            }
        }
    }
}

/// The `error_code`s an error response documents: the keys of its examples.
pub fn documented_codes(response: &Value) -> Vec<String> {
    response["content"]["application/json"]["examples"]
        .as_object()
        .map(|examples| examples.keys().cloned().collect())
        .unwrap_or_default()
}
