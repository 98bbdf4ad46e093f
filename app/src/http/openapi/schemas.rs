//! The JSON Schemas (2020-12, as OpenAPI 3.1 uses) of every body, built from the domain's own
//! limits so the document states exactly what the server enforces.

use std::borrow::Cow;

use domain::{Version, PAYMENT_TYPE};
use serde_json::json;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, Ref, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::RefOr;
use utoipa::{Number, PartialSchema, ToSchema};

use crate::http::error::MAX_DETAILS;
use crate::http::error_code::ErrorCode;

/// A `$ref` to the component schema `name`.
pub fn reference(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

pub(super) fn object() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Object)
}

pub(super) fn closed_object() -> ObjectBuilder {
    object().additional_properties(Some(AdditionalProperties::FreeForm(false)))
}

pub(super) fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

pub(super) fn uuid() -> ObjectBuilder {
    string().format(Some(SchemaFormat::Custom("uuid".into())))
}

pub(super) fn nullable(kind: Type) -> SchemaType {
    SchemaType::from_iter([kind, Type::Null])
}

pub(super) fn version() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(Number::UInt(Version::MAX.value() as usize)))
}

/// `data` of a request; `update` makes `version` required.
fn request_data(update: bool) -> RefOr<Schema> {
    let version_rule = if update {
        "The version you last read (required unless an `If-Match` header is sent)."
    } else {
        "Ignored on create: new payments are version 0."
    };
    let mut data = closed_object()
        .property(
            "type",
            ObjectBuilder::new()
                .schema_type(nullable(Type::String))
                .enum_values(Some([json!(PAYMENT_TYPE), json!(null)])),
        )
        .property(
            "id",
            uuid()
                .schema_type(nullable(Type::String))
                .description(Some(if update {
                    "Must equal the id in the path when sent."
                } else {
                    "The payment id; the server picks a UUIDv7 when it is absent."
                })),
        )
        .required("organisation_id")
        .property("organisation_id", uuid())
        .required("attributes")
        .property("attributes", reference("PaymentAttributes"));
    data = if update {
        data.required("version")
            .property("version", version().description(Some(version_rule)))
    } else {
        data.property(
            "version",
            version()
                .schema_type(nullable(Type::Integer))
                .description(Some(version_rule)),
        )
    };
    data.into()
}

fn document(data: &str) -> RefOr<Schema> {
    closed_object()
        .required("data")
        .property("data", reference(data))
        .into()
}

fn payment_resource() -> RefOr<Schema> {
    closed_object()
        .required("type")
        .property("type", string().enum_values(Some([PAYMENT_TYPE])))
        .required("id")
        .property("id", uuid())
        .required("version")
        .property("version", version())
        .required("organisation_id")
        .property("organisation_id", uuid())
        .required("attributes")
        .property("attributes", reference("PaymentAttributes"))
        .into()
}

fn link() -> ObjectBuilder {
    string().format(Some(SchemaFormat::Custom("uri-reference".into())))
}

fn single_response() -> RefOr<Schema> {
    closed_object()
        .required("data")
        .property("data", reference("PaymentResource"))
        .required("links")
        .property(
            "links",
            closed_object().required("self").property("self", link()),
        )
        .examples([super::examples::payment_response()])
        .into()
}

fn list_response() -> RefOr<Schema> {
    let links = closed_object()
        .required("self")
        .property("self", link())
        .property(
            "next",
            link().description(Some("The next page; absent on the last page.")),
        );
    closed_object()
        .required("data")
        .property(
            "data",
            ArrayBuilder::new().items(reference("PaymentResource")),
        )
        .required("links")
        .property("links", links)
        .into()
}

fn error_body() -> RefOr<Schema> {
    let detail = closed_object()
        .required("field")
        .property(
            "field",
            string().description(Some("Dotted path, e.g. `data.attributes.amount`.")),
        )
        .required("message")
        .property("message", string());
    closed_object()
        .required("error_code")
        .property(
            "error_code",
            string()
                .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.as_str())))
                .description(Some("Stable machine-readable code.")),
        )
        .required("error_message")
        .property("error_message", string().min_length(Some(1)))
        .property(
            "details",
            ArrayBuilder::new()
                .items(detail)
                .min_items(Some(1))
                .max_items(Some(MAX_DETAILS))
                .description(Some(format!(
                    "One entry per refused field (validation errors only), the first \
                     {MAX_DETAILS}."
                ))),
        )
        .property(
            "details_omitted",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .description(Some("How many refused fields `details` leaves out.")),
        )
        .into()
}

fn status(value: &str) -> RefOr<Schema> {
    closed_object()
        .required("status")
        .property("status", string().enum_values(Some([value])))
        .into()
}

/// The create request body, for `#[utoipa::path(request_body = ...)]`.
pub struct PaymentRequestBody;

impl PartialSchema for PaymentRequestBody {
    fn schema() -> RefOr<Schema> {
        document("PaymentRequestData")
    }
}

impl ToSchema for PaymentRequestBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PaymentRequest")
    }
}

/// The update request body, for `#[utoipa::path(request_body = ...)]`.
pub struct UpdatePaymentRequestBody;

impl PartialSchema for UpdatePaymentRequestBody {
    fn schema() -> RefOr<Schema> {
        document("UpdatePaymentRequestData")
    }
}

impl ToSchema for UpdatePaymentRequestBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("UpdatePaymentRequest")
    }
}

/// A command's status resource (asynchronous writes).
fn command_response() -> RefOr<Schema> {
    let text = || ObjectBuilder::new().schema_type(Type::String);
    let data = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("type", text().enum_values(Some(["payment_commands"])))
        .property("id", uuid())
        .property(
            "status",
            text().enum_values(Some(["accepted", "applied", "rejected"])),
        )
        .property("action", text().enum_values(Some(["create", "update", "delete"])))
        .property("payment_id", uuid())
        .property("organisation_id", uuid())
        .property("accepted_at", text().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
        .property(
            "finished_at",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .property(
            "result",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("An applied command: the status the synchronous API would have answered (201, 200, 204) and the payment's version after it (absent for a delete)."))
                .property("status", ObjectBuilder::new().schema_type(Type::Integer))
                .property("version", version())
                .required("status"),
        )
        .property(
            "error",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("A rejected command: the status and error body the synchronous API would have answered."))
                .property("status", ObjectBuilder::new().schema_type(Type::Integer))
                .property("error_code", text())
                .property("error_message", text())
                .property("details", ObjectBuilder::new().schema_type(Type::Array))
                .required("status")
                .required("error_code")
                .required("error_message"),
        )
        .required("type")
        .required("id")
        .required("status")
        .required("action")
        .required("payment_id")
        .required("organisation_id")
        .required("accepted_at");
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("data", data)
        .property(
            "links",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("self", text())
                .property("payment", text())
                .required("self")
                .required("payment"),
        )
        .required("data")
        .required("links")
        .into()
}

/// Every component schema, by name.
/// Every component schema by name, except the attributes' own (`super::attributes`).
pub fn all() -> Vec<(&'static str, RefOr<Schema>)> {
    vec![
        ("PaymentRequest", PaymentRequestBody::schema()),
        ("PaymentRequestData", request_data(false)),
        ("UpdatePaymentRequest", UpdatePaymentRequestBody::schema()),
        ("UpdatePaymentRequestData", request_data(true)),
        ("PaymentResource", payment_resource()),
        ("PaymentResponse", single_response()),
        ("PaymentListResponse", list_response()),
        ("ErrorBody", error_body()),
        ("PaymentCommandResponse", command_response()),
        ("Liveness", status("ok")),
        ("Readiness", status("ready")),
    ]
}

/// The query and path parameter schemas.
pub mod parameters {
    use domain::PageSize;

    use super::*;

    /// A UUID string.
    pub fn uuid() -> ObjectBuilder {
        super::uuid()
    }

    /// A payment version.
    pub fn version() -> ObjectBuilder {
        super::version()
    }

    /// `If-Match`: `*` or one quoted version as an `ETag` writes it (no leading zero, at most 18
    /// digits, so always within range).
    pub fn if_match() -> ObjectBuilder {
        string().pattern(Some(r#"^(\*|"(0|[1-9][0-9]{0,17})")$"#))
    }

    /// `x-request-id` (any value is accepted; unusable ones are replaced).
    pub fn request_id() -> ObjectBuilder {
        string()
    }

    /// `page[size]`.
    pub fn page_size() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(PageSize::MIN))
            .maximum(Some(PageSize::MAX))
            .default(Some(json!(PageSize::DEFAULT.get())))
    }
}
