use super::*;

fn upgrade(current: Minor, requested: Minor) -> UpgradeAsk<'static> {
    UpgradeAsk {
        current,
        requested,
        nodegroups_behind: Vec::new(),
        insights_block: false,
        force: false,
    }
}

#[test]
fn an_upgrade_is_refused_in_ekss_order() {
    assert_eq!(refuse_upgrade(&upgrade((1, 30), (1, 31))), None);
    let skipped = refuse_upgrade(&UpgradeAsk {
        nodegroups_behind: vec!["ng-a"],
        ..upgrade((1, 30), (1, 32))
    })
    .unwrap();
    assert_eq!(skipped.code, Code::InvalidParameter);
    assert_eq!(
        skipped.message,
        "Unsupported Kubernetes minor version update from 1.30 to 1.32"
    );
    let behind = refuse_upgrade(&UpgradeAsk {
        nodegroups_behind: vec!["ng-a", "ng-b"],
        insights_block: true,
        ..upgrade((1, 30), (1, 31))
    })
    .unwrap();
    assert_eq!(
        behind.message,
        "Nodegroups ng-a, ng-b must be updated to match cluster version 1.30 before updating cluster version."
    );
    let insights = UpgradeAsk {
        insights_block: true,
        ..upgrade((1, 30), (1, 31))
    };
    assert_eq!(refuse_upgrade(&insights).unwrap().code, Code::InvalidState);
    assert_eq!(
        refuse_upgrade(&UpgradeAsk {
            force: true,
            ..insights
        }),
        None
    );
}

#[test]
fn a_rollback_needs_an_in_place_upgrade_within_the_window() {
    let ask = RollbackAsk {
        cluster: "devel",
        current: (1, 31),
        requested: (1, 30),
        upgraded_from: Some((1, 30)),
        within_window: true,
        extended_on_standard: false,
        nodegroups_newer: Vec::new(),
        insights_block: false,
        force: false,
    };
    assert_eq!(refuse_rollback(&ask), None);
    let created = refuse_rollback(&RollbackAsk {
        upgraded_from: None,
        ..ask.clone()
    })
    .unwrap();
    assert_eq!(created.code, Code::InvalidRequest);
    assert_eq!(
        created.message,
        "Cluster devel cannot be rolled back to Kubernetes version 1.30: it was not upgraded to 1.31 in place. A \
         cluster created at its current version cannot be rolled back."
    );
    let late = refuse_rollback(&RollbackAsk {
        within_window: false,
        ..ask.clone()
    })
    .unwrap();
    assert!(late
        .message
        .ends_with("the upgrade to 1.31 completed more than 7 days ago."));
    let two_down = refuse_rollback(&RollbackAsk {
        requested: (1, 29),
        ..ask.clone()
    })
    .unwrap();
    assert_eq!(two_down.code, Code::InvalidParameter);
    let newer = refuse_rollback(&RollbackAsk {
        nodegroups_newer: vec!["ng-a"],
        insights_block: true,
        ..ask.clone()
    })
    .unwrap();
    assert_eq!(
        newer.message,
        "Nodegroups ng-a must be rolled back to version 1.30 before rolling back cluster version."
    );
    let insights = RollbackAsk {
        insights_block: true,
        ..ask
    };
    assert_eq!(refuse_rollback(&insights).unwrap().code, Code::InvalidState);
    assert_eq!(
        refuse_rollback(&RollbackAsk {
            force: true,
            ..insights
        }),
        None
    );
}
