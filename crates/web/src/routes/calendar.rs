//! The working-day calendar (A19.2): which years it knows and from where, each year's holidays
//! and make-up workdays, a count of working days from any date, and for the operator a form
//! to load a year from the State Council's notice — as a console page and in the API.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use domain::calendar::{Calendar, REVIEW_WORKING_DAYS};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use app::calendar::Source;

use crate::ctx::{ApiJson, Ctx, FormPost, Params};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::page::{PageCtx, html, message_at};
use crate::state::AppState;

#[derive(Debug, Serialize, JsonSchema)]
pub struct YearView {
    pub year: i32,
    /// Where the year came from: `maintained` (the holiday-cn data), `shipped` (with the
    /// platform) or `operator` (loaded in the console).
    pub source: Source,
    /// Days off that would otherwise be worked, and holidays on weekends, as ISO dates.
    pub holidays: Vec<String>,
    /// Weekend days worked (调休).
    pub make_up_workdays: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeadlineView {
    pub from: String,
    pub working_days: u32,
    /// The last working day; the deadline is its end (24:00 China Standard Time).
    pub due: String,
    /// Counted into a year the calendar does not know, on weekends alone: it will change when
    /// that year is loaded.
    pub provisional: bool,
    pub unknown_years: Vec<i32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CalendarAnswer {
    /// The years known, oldest first.
    pub years: Vec<YearView>,
    /// The count asked for with `from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DeadlineView>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CalendarQuery {
    /// Count working days from this date (ISO, e.g. 2026-09-18), the day itself not counted.
    pub from: Option<String>,
    /// How many (1–60; 10, the review period, by default).
    pub days: Option<u32>,
    /// Only this year.
    pub year: Option<i32>,
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn years(calendar: &Calendar, sources: &[(i32, Source)], only: Option<i32>) -> Vec<YearView> {
    calendar
        .years()
        .filter(|y| only.is_none_or(|o| o == y.year()))
        .map(|y| YearView {
            year: y.year(),
            source: sources
                .iter()
                .find(|(year, _)| *year == y.year())
                .map_or(Source::Maintained, |(_, s)| *s),
            holidays: y.holidays().map(iso).collect(),
            make_up_workdays: y.make_up_workdays().map(iso).collect(),
        })
        .collect()
}

fn deadline(calendar: &Calendar, q: &CalendarQuery) -> AppResult<Option<DeadlineView>> {
    let Some(from) = q.from.as_deref().filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let from = NaiveDate::parse_from_str(from.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| domain::calendar::YEARS.contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| AppError::field("from", "invalid_date"))?;
    let n = q.days.unwrap_or(REVIEW_WORKING_DAYS);
    if !(1..=60).contains(&n) {
        return Err(AppError::field("days", "invalid_value"));
    }
    let d = calendar.add_working_days(from, n);
    Ok(Some(DeadlineView {
        from: iso(from),
        working_days: n,
        due: iso(d.due),
        provisional: d.provisional,
        unknown_years: d.unknown_years,
    }))
}

/// `GET /api/v1/calendar`.
pub async fn api(
    State(state): State<AppState>,
    Params(q): Params<CalendarQuery>,
) -> AppResult<Json<CalendarAnswer>> {
    let (calendar, sources) = app::calendar::calendar(&state.app).await?;
    Ok(Json(CalendarAnswer {
        deadline: deadline(&calendar, &q)?,
        years: years(&calendar, &sources, q.year),
    }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct YearInput {
    /// ISO dates, or `FIRST~LAST` for the days of a holiday.
    pub holidays: Vec<String>,
    /// Weekend days worked, as ISO dates.
    #[serde(default)]
    pub make_up_workdays: Vec<String>,
}

/// `PUT /api/v1/calendar/{year}`: loads or corrects a year (the operator).
pub async fn api_put(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(year): Path<String>,
    ApiJson(input): ApiJson<YearInput>,
) -> AppResult<Response> {
    let year: i32 = year
        .parse()
        .map_err(|_| AppError::field("year", "invalid_value"))?;
    app::calendar::load_year(
        &state.app,
        &ctx.caller,
        year,
        &input.holidays.join(","),
        &input.make_up_workdays.join(","),
    )
    .await?;
    let (calendar, sources) = app::calendar::calendar(&state.app).await?;
    let loaded = years(&calendar, &sources, Some(year)).into_iter().next();
    Ok(Json(loaded.ok_or(ErrorCode::Internal)?).into_response())
}

#[derive(Template)]
#[template(path = "console/calendar.html")]
struct CalendarPage<'a> {
    page: PageCtx<'a>,
    years: Vec<YearView>,
    /// The count asked for, and when it is provisional, why.
    due: Option<(String, Option<String>)>,
    from: String,
    /// The form to load a year, as typed.
    year: String,
    holidays: String,
    workdays: String,
    errors: Vec<(String, String)>,
    saved: Option<String>,
}

impl CalendarPage<'_> {
    fn error_at(&self, field: &str) -> Option<&str> {
        message_at(&self.errors, field)
    }

    fn source(&self, s: &Source) -> String {
        self.page.t(match s {
            Source::Maintained => "calendar.source_maintained",
            Source::Shipped => "calendar.source_shipped",
            Source::Operator => "calendar.source_operator",
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PageQuery {
    pub from: Option<String>,
    pub saved: Option<String>,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    from: Option<String>,
    form: (String, String, String),
    mut errors: Vec<(String, String)>,
    saved: Option<String>,
) -> AppResult<Response> {
    let page = PageCtx::new(state, ctx, "/console/calendar");
    let (calendar, sources) = app::calendar::calendar(&state.app).await?;
    let q = CalendarQuery {
        from: from.clone(),
        days: None,
        year: None,
    };
    let deadline = match deadline(&calendar, &q) {
        Ok(d) => d,
        Err(e) => {
            for f in e.into_field_errors()? {
                errors.push((f.field.clone(), page.field_message(&f)));
            }
            None
        }
    };
    let mut shown = years(&calendar, &sources, None);
    // Newest first: the years that matter for deadlines now.
    shown.reverse();
    shown.truncate(6);
    let (year, holidays, workdays) = form;
    let due = deadline.map(|d| {
        let text = page.tfs(
            "calendar.due",
            &[
                ("from", d.from.clone()),
                ("n", d.working_days.to_string()),
                ("due", d.due.clone()),
            ],
        );
        let years: Vec<String> = d.unknown_years.iter().map(i32::to_string).collect();
        let note = d
            .provisional
            .then(|| page.tf("calendar.provisional_note", "years", &years.join(", ")));
        (text, note)
    });
    html(
        status,
        CalendarPage {
            page,
            years: shown,
            due,
            from: from.unwrap_or_default(),
            year,
            holidays,
            workdays,
            errors,
            saved,
        },
    )
}

/// `GET /console/calendar`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<PageQuery>,
) -> AppResult<Response> {
    let saved = q.saved.filter(|s| s.len() <= 4 && s.parse::<i32>().is_ok());
    render(
        &state,
        &ctx,
        StatusCode::OK,
        q.from,
        Default::default(),
        Vec::new(),
        saved,
    )
    .await
}

/// `POST /console/calendar`: loads a year from the form.
pub async fn save(State(state): State<AppState>, ctx: Ctx, form: FormPost) -> AppResult<Response> {
    let v = &form.values;
    let (year_text, holidays, workdays) = (
        v.get("year").trim().to_owned(),
        v.get("holidays").to_owned(),
        v.get("workdays").to_owned(),
    );
    let result = match year_text.parse::<i32>() {
        Ok(year) => app::calendar::load_year(&state.app, &ctx.caller, year, &holidays, &workdays)
            .await
            .map(|_| year)
            .map_err(AppError),
        Err(_) => Err(AppError::field("year", "invalid_value")),
    };
    match result {
        Ok(year) => Ok(Redirect::to(&format!("/console/calendar?saved={year}")).into_response()),
        Err(e) => {
            let page = PageCtx::new(&state, &ctx, "/console/calendar");
            let errors = e
                .into_field_errors()?
                .iter()
                .map(|f| (f.field.clone(), page.field_message(f)))
                .collect();
            render(
                &state,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                (year_text, holidays, workdays),
                errors,
                None,
            )
            .await
        }
    }
}
