//! The function's answers for people: tables and lines, read from the JSON it answers (so a
//! field the function adds later shows in `--output json` at once, and here when wanted).

use serde_json::Value;

/// A value as a cell: strings bare, nothing as `-`.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) if s.is_empty() => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Columns aligned, one header line.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = vec![line(headers.iter().map(|h| h.to_string()).collect())];
    out.extend(rows.iter().map(|r| line(r.clone())));
    out.join("\n")
}

/// An upgrade's summary (an upgrade request, a cancel, a rollback).
pub fn summary(s: &Value) -> String {
    let mut out = format!(
        "{}  {}  {}  {} -> {}",
        cell(&s["cluster"]),
        cell(&s["requestId"]),
        cell(&s["status"]),
        cell(&s["fromVersion"]),
        cell(&s["targetVersion"])
    );
    if !s["updateId"].is_null() {
        out.push_str(&format!("  update {}", cell(&s["updateId"])));
    }
    for key in ["message", "outcome"] {
        if s[key].is_string() {
            out.push_str(&format!("\n  {}", cell(&s[key])));
        }
    }
    out
}

/// A dry run's plan.
pub fn plan(reply: &Value) -> String {
    let plan = &reply["plan"];
    let mut out = format!(
        "plan for {}: {} -> {} (enrolled: {})",
        cell(&plan["cluster"]),
        cell(&plan["fromVersion"]),
        cell(&plan["targetVersion"]),
        cell(&reply["enrolled"])
    );
    let rows: Vec<Vec<String>> = plan["hops"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            let count = |k: &str| h[k].as_array().map_or(0, Vec::len).to_string();
            let failed = h["gates"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|g| g["passed"] == false)
                .count();
            vec![
                cell(&h["from"]),
                cell(&h["to"]),
                count("addons"),
                count("nodegroups"),
                failed.to_string(),
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&table(&["FROM", "TO", "ADD-ONS", "NODE GROUPS", "GATES FAILED"], &rows));
    for b in plan["blockers"].as_array().into_iter().flatten() {
        out.push_str(&format!("\nblocker: {}", cell(b)));
    }
    for w in plan["warnings"].as_array().into_iter().flatten() {
        out.push_str(&format!("\nwarning: {}", cell(w)));
    }
    if let Some(w) = reply["window"]["window"].as_str() {
        out.push_str(&format!(
            "\nwindow: {w} (open now: {})",
            cell(&reply["window"]["openNow"])
        ));
    }
    out
}

/// A status query's records.
pub fn status(reply: &Value) -> String {
    let rows: Vec<Vec<String>> = reply["records"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            vec![
                cell(&r["requestId"]),
                cell(&r["status"]),
                cell(&r["fromVersion"]),
                cell(&r["targetVersion"]),
                cell(&r["step"]),
                cell(&r["updateId"]),
                cell(&r["message"]),
            ]
        })
        .collect();
    if rows.is_empty() {
        return format!("no upgrade recorded for {}", cell(&reply["cluster"]));
    }
    table(
        &["REQUEST", "STATUS", "FROM", "TARGET", "STEP", "UPDATE", "MESSAGE"],
        &rows,
    )
}

/// A rollout: its stages and their clusters.
pub fn rollout(r: &Value) -> String {
    let mut out = format!(
        "rollout {} ({})  {}  to {}",
        cell(&r["rollout"]),
        cell(&r["requestId"]),
        cell(&r["status"]),
        cell(&r["targetVersion"])
    );
    if r["message"].is_string() {
        out.push_str(&format!("\n  {}", cell(&r["message"])));
    }
    let mut rows = Vec::new();
    for stage in r["stages"].as_array().into_iter().flatten() {
        for c in stage["clusters"].as_array().into_iter().flatten() {
            let shown = c.get("account").map_or_else(
                || cell(&c["name"]),
                |a| format!("{} ({} {})", cell(&c["name"]), cell(a), cell(&c["region"])),
            );
            let note = c["upgrade"]["message"].as_str().or(c["note"].as_str()).unwrap_or("-");
            rows.push(vec![
                cell(&stage["name"]),
                cell(&stage["status"]),
                shown,
                cell(&c["state"]),
                note.to_owned(),
            ]);
        }
    }
    out.push('\n');
    out.push_str(&table(&["STAGE", "STAGE STATUS", "CLUSTER", "STATE", "NOTE"], &rows));
    out
}

/// The fleet report: a line per cluster, most urgent first, then the totals.
pub fn fleet(r: &Value) -> String {
    let rows: Vec<Vec<String>> = r["clusters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            vec![
                cell(&l["cluster"]),
                cell(&l["version"]),
                cell(&l["upgradePolicy"]),
                cell(&l["support"]),
                cell(&l["endOfStandardSupport"]),
                cell(&l["daysOfStandardSupportLeft"]),
                format!("{:.2}", l["monthlyCostUsd"].as_f64().unwrap_or_default()),
                l["upgrade"].as_object().map_or("-".into(), |u| {
                    format!("{} {}", cell(&u["requestId"]), cell(&u["status"]))
                }),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "CLUSTER",
            "VERSION",
            "POLICY",
            "SUPPORT",
            "STANDARD ENDS",
            "DAYS LEFT",
            "USD/MONTH",
            "UPGRADE",
        ],
        &rows,
    );
    let names = |k: &str| {
        r[k].as_array()
            .map_or(String::new(), |a| a.iter().map(cell).collect::<Vec<_>>().join(", "))
    };
    out.push_str(&format!(
        "\nin extended support: {}\nentering extended support within 30 days: {}\nextended support adds ${:.2} a month",
        or_none(names("inExtendedSupport")),
        or_none(names("enteringExtendedSupportWithin30Days")),
        r["extendedSupportExtraMonthlyUsd"].as_f64().unwrap_or_default()
    ));
    for u in r["unreachable"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "\nunreachable: account {} region {}: {}",
            cell(&u["account"]),
            cell(&u["region"]),
            cell(&u["message"])
        ));
    }
    out
}

fn or_none(s: String) -> String {
    if s.is_empty() {
        "none".into()
    } else {
        s
    }
}

/// A rollback's dry run: what would go back, and whether it can now.
pub fn rollback_dry_run(r: &Value) -> String {
    let mut out = format!(
        "rollback of {} ({}): {} -> {}, would start now: {}",
        cell(&r["cluster"]),
        cell(&r["requestId"]),
        cell(&r["from"]),
        cell(&r["to"]),
        cell(&r["wouldStart"])
    );
    for check in r["prerequisites"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "\n  {}  {}  {}",
            cell(&check["check"]),
            cell(&check["passed"]),
            cell(&check["detail"])
        ));
    }
    out
}

/// Whatever the function answered, as people read it.
pub fn any(reply: &Value) -> String {
    if reply.get("wouldStart").is_some() {
        rollback_dry_run(reply)
    } else if reply.get("plan").is_some() {
        plan(reply)
    } else if reply.get("records").is_some() {
        status(reply)
    } else if reply.get("stages").is_some() && reply.get("rollout").is_some() {
        rollout(reply)
    } else if reply.get("clusters").is_some() && reply.get("prices").is_some() {
        fleet(reply)
    } else if reply.get("cluster").is_some() && reply.get("status").is_some() {
        summary(reply)
    } else {
        serde_json::to_string_pretty(reply).unwrap_or_default()
    }
}
