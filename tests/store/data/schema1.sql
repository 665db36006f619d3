BEGIN TRANSACTION;
CREATE TABLE causes (
	id INTEGER NOT NULL, 
	finding_id INTEGER NOT NULL, 
	rank INTEGER NOT NULL, 
	segment JSON NOT NULL, 
	share FLOAT NOT NULL, 
	value_before FLOAT NOT NULL, 
	value_after FLOAT NOT NULL, 
	size_before FLOAT NOT NULL, 
	size_after FLOAT NOT NULL, 
	rate_effect FLOAT NOT NULL, 
	mix_effect FLOAT NOT NULL, 
	confidence FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(finding_id) REFERENCES findings (id) ON DELETE CASCADE
);
CREATE TABLE cube_periods (
	metric VARCHAR(200) NOT NULL, 
	period DATETIME NOT NULL, 
	cells JSON NOT NULL, 
	PRIMARY KEY (metric, period)
);
CREATE TABLE cube_spans (
	metric VARCHAR(200) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	first DATETIME NOT NULL, 
	last DATETIME NOT NULL, 
	PRIMARY KEY (metric)
);
CREATE TABLE deliveries (
	id INTEGER NOT NULL, 
	dedup_key TEXT NOT NULL, 
	channel VARCHAR(200) NOT NULL, 
	metric VARCHAR(200) NOT NULL, 
	episode_id VARCHAR(400), 
	group_key TEXT NOT NULL, 
	body_key VARCHAR(400), 
	period DATETIME, 
	decision VARCHAR(24) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	payload JSON NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME, 
	last_error TEXT, 
	external_id TEXT, 
	thread_id TEXT, 
	created_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (dedup_key)
);
INSERT INTO "deliveries" VALUES(1,'log|conversion|channel=web|2026-11-18T00:00:00|new|2026-11-20T00:00:00+09:00','log','conversion','conversion|channel=web|2026-11-18T00:00:00','log|conversion|2026-11-20T00:00:00+09:00|new',NULL,'2026-11-20 00:00:00.000000','new','pending','{"episode_id": "conversion|channel=web|2026-11-18T00:00:00", "metric": "conversion", "title": "Conversion", "segment": {"channel": "web"}, "period": "2026-11-20T00:00:00+09:00", "state": "new", "severity": "critical", "header": "Critical \u00b7 Conversion (channel=web) \u2193 4.0 pts", "summary": "Conversion fell.", "fields": [], "causes": [], "deviation": 0.04, "locale": "en", "report_url": null, "owners": []}',0,NULL,NULL,NULL,NULL,'2026-11-21 00:00:00.000000',NULL,'2026-11-22 00:00:00.000000');
CREATE TABLE delivery_bodies (
	"key" VARCHAR(400) NOT NULL, 
	body JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE episodes (
	id VARCHAR(400) NOT NULL, 
	metric VARCHAR(200) NOT NULL, 
	segment JSON NOT NULL, 
	segment_key TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	data_late BOOLEAN NOT NULL, 
	since DATETIME NOT NULL, 
	last_seen DATETIME NOT NULL, 
	periods INTEGER NOT NULL, 
	severity VARCHAR(16) NOT NULL, 
	peak_score FLOAT NOT NULL, 
	last_value FLOAT, 
	last_expected FLOAT, 
	recovered_at DATETIME, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "episodes" VALUES('conversion|channel=web|2026-11-18T00:00:00','conversion','{"channel": "web"}','channel=web','new','down',0,'2026-11-18 00:00:00.000000','2026-11-20 00:00:00.000000',3,'critical',4.0,0.11,0.15,NULL,'2026-11-21 00:00:00.000000');
CREATE TABLE feedback (
	id INTEGER NOT NULL, 
	episode_id VARCHAR(400) NOT NULL, 
	metric VARCHAR(200) NOT NULL, 
	label VARCHAR(16) NOT NULL, 
	note TEXT, 
	starts_on DATETIME, 
	ends_on DATETIME, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(episode_id) REFERENCES episodes (id)
);
INSERT INTO "feedback" VALUES(1,'conversion|channel=web|2026-11-18T00:00:00','conversion','true','real',NULL,NULL,'2026-11-22 09:00:00.000000');
CREATE TABLE findings (
	id INTEGER NOT NULL, 
	run_id INTEGER NOT NULL, 
	episode_id VARCHAR(400), 
	metric VARCHAR(200) NOT NULL, 
	period DATETIME NOT NULL, 
	segment JSON NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	value FLOAT, 
	expected FLOAT, 
	lower FLOAT NOT NULL, 
	upper FLOAT NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	severity VARCHAR(16) NOT NULL, 
	score FLOAT NOT NULL, 
	since DATETIME NOT NULL, 
	reason TEXT NOT NULL, 
	explained_share FLOAT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE, 
	FOREIGN KEY(episode_id) REFERENCES episodes (id)
);
INSERT INTO "findings" VALUES(1,1,'conversion|channel=web|2026-11-18T00:00:00','conversion','2026-11-20 00:00:00.000000','{"channel": "web"}','anomaly',0.11,0.15,0.13,0.17,'down','critical',-4.0,'2026-11-18 00:00:00.000000','null',0.8);
CREATE TABLE job_health (
	metric VARCHAR(200) NOT NULL, 
	failures INTEGER NOT NULL, 
	last_error TEXT, 
	last_attempt DATETIME NOT NULL, 
	last_success DATETIME, 
	PRIMARY KEY (metric)
);
INSERT INTO "job_health" VALUES('conversion',0,NULL,'2026-11-21 00:00:00.000000','2026-11-21 00:00:00.000000');
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "meta" VALUES('schema_version','1');
CREATE TABLE runs (
	id INTEGER NOT NULL, 
	metric VARCHAR(200) NOT NULL, 
	period DATETIME NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	severity VARCHAR(16), 
	value FLOAT, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME NOT NULL, 
	report_path TEXT, 
	notes JSON NOT NULL, 
	error TEXT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_runs_metric_period UNIQUE (metric, period)
);
INSERT INTO "runs" VALUES(1,'conversion','2026-11-20 00:00:00.000000','findings','critical',0.11,'2026-11-21 00:00:00.000000','2026-11-21 00:00:00.000000',NULL,'[]',NULL);
CREATE TABLE silences (
	id INTEGER NOT NULL, 
	metric VARCHAR(200) NOT NULL, 
	segment JSON NOT NULL, 
	reason TEXT NOT NULL, 
	created_by VARCHAR(200), 
	created_at DATETIME NOT NULL, 
	ends_at DATETIME NOT NULL, 
	lifted_at DATETIME, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_episodes_metric_status ON episodes (metric, status);
CREATE INDEX ix_deliveries_status ON deliveries (status, next_attempt_at);
CREATE INDEX ix_deliveries_episode ON deliveries (episode_id, channel);
CREATE INDEX ix_deliveries_group ON deliveries (group_key);
CREATE INDEX ix_findings_episode_id ON findings (episode_id);
CREATE INDEX ix_findings_run_id ON findings (run_id);
CREATE INDEX ix_feedback_episode_id ON feedback (episode_id);
CREATE INDEX ix_causes_finding_id ON causes (finding_id);
COMMIT;
