//! What an `/api/v1` route takes and answers, as the OpenAPI document describes it: its query
//! parameters, its request body and its answer, each the JSON schema of the Rust type the
//! handler reads or writes (docs/decisions/0017-api-schemas-from-the-types.md).

use domain::clock::Timestamp;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;

/// Writes the schema of one type into a generator's definitions.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn reference<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

fn inline<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    T::json_schema(generator)
}

/// What a route reads from its request's body.
#[derive(Clone, Copy)]
pub enum Body {
    None,
    /// A JSON document of this schema. `required: false` when an empty object is the default.
    Json {
        schema: SchemaFn,
        required: bool,
    },
    /// The bytes of a file, streamed.
    File,
    /// A JSON document or CSV text (catalogue imports).
    JsonOrCsv(SchemaFn),
}

/// What a route answers when it succeeds.
#[derive(Clone, Copy)]
pub enum Answer {
    Json {
        status: u16,
        schema: SchemaFn,
    },
    NoContent,
    /// The bytes of a stored file, with the type found in its content.
    File,
}

/// One route's contract.
#[derive(Clone, Copy)]
pub struct Contract {
    pub summary: &'static str,
    /// The schema of an object whose properties are the query parameters.
    pub query: Option<SchemaFn>,
    pub body: Body,
    pub answer: Answer,
}

impl Contract {
    /// A route that takes nothing and answers 204.
    pub fn new(summary: &'static str) -> Self {
        Self {
            summary,
            query: None,
            body: Body::None,
            answer: Answer::NoContent,
        }
    }

    pub fn query<T: JsonSchema>(mut self) -> Self {
        self.query = Some(inline::<T>);
        self
    }

    pub fn body<T: JsonSchema>(mut self) -> Self {
        self.body = Body::Json {
            schema: reference::<T>,
            required: true,
        };
        self
    }

    /// A body that may be left out: the route then acts as on an empty object.
    pub fn optional_body<T: JsonSchema>(mut self) -> Self {
        self.body = Body::Json {
            schema: reference::<T>,
            required: false,
        };
        self
    }

    pub fn file_body(mut self) -> Self {
        self.body = Body::File;
        self
    }

    pub fn json_or_csv_body<T: JsonSchema>(mut self) -> Self {
        self.body = Body::JsonOrCsv(reference::<T>);
        self
    }

    pub fn ok<T: JsonSchema>(mut self) -> Self {
        self.answer = Answer::Json {
            status: 200,
            schema: reference::<T>,
        };
        self
    }

    pub fn created<T: JsonSchema>(mut self) -> Self {
        self.answer = Answer::Json {
            status: 201,
            schema: reference::<T>,
        };
        self
    }

    /// Accepted for work that goes on after the answer (202).
    pub fn accepted<T: JsonSchema>(mut self) -> Self {
        self.answer = Answer::Json {
            status: 202,
            schema: reference::<T>,
        };
        self
    }

    pub fn file(mut self) -> Self {
        self.answer = Answer::File;
        self
    }
}

/// An instant as the API writes it: RFC 3339 in China Standard Time, to the millisecond.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Rfc3339(String);

impl From<Timestamp> for Rfc3339 {
    fn from(t: Timestamp) -> Self {
        Rfc3339(t.to_rfc3339())
    }
}

impl Rfc3339 {
    pub fn of(t: Option<Timestamp>) -> Option<Rfc3339> {
        t.map(Rfc3339::from)
    }
}

impl JsonSchema for Rfc3339 {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DateTime".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "date-time" })
    }
}
