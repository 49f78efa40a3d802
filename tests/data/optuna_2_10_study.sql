BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('v2.6.0.a');
CREATE TABLE studies (
	study_id INTEGER NOT NULL, 
	study_name VARCHAR(512) NOT NULL, 
	PRIMARY KEY (study_id)
);
INSERT INTO "studies" VALUES(1,'digits_ffn_d6e76000');
CREATE TABLE study_directions (
	study_direction_id INTEGER NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	study_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	PRIMARY KEY (study_direction_id), 
	UNIQUE (study_id, objective), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "study_directions" VALUES(1,'MAXIMIZE',1,0);
CREATE TABLE study_system_attributes (
	study_system_attribute_id INTEGER NOT NULL, 
	study_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (study_system_attribute_id), 
	UNIQUE (study_id, "key"), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE study_user_attributes (
	study_user_attribute_id INTEGER NOT NULL, 
	study_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (study_user_attribute_id), 
	UNIQUE (study_id, "key"), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE trial_heartbeats (
	trial_heartbeat_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	heartbeat DATETIME NOT NULL, 
	PRIMARY KEY (trial_heartbeat_id), 
	UNIQUE (trial_id), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_intermediate_values (
	trial_intermediate_value_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	step INTEGER NOT NULL, 
	intermediate_value FLOAT NOT NULL, 
	PRIMARY KEY (trial_intermediate_value_id), 
	UNIQUE (trial_id, step), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_intermediate_values" VALUES(1,1,0,8.62962961196899414062e-01);
INSERT INTO "trial_intermediate_values" VALUES(2,1,1,9.29629623889923095703e-01);
INSERT INTO "trial_intermediate_values" VALUES(3,1,2,9.55555558204650878906e-01);
INSERT INTO "trial_intermediate_values" VALUES(4,2,0,8.66666674613952636718e-01);
INSERT INTO "trial_intermediate_values" VALUES(5,2,1,8.96296322345733642578e-01);
INSERT INTO "trial_intermediate_values" VALUES(6,2,2,9.40740764141082763671e-01);
CREATE TABLE trial_params (
	param_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	param_name VARCHAR(512), 
	param_value FLOAT, 
	distribution_json TEXT, 
	PRIMARY KEY (param_id), 
	UNIQUE (trial_id, param_name), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_params" VALUES(1,1,'model.dropout',1.87270059423681245469e-01,'{"name": "UniformDistribution", "attributes": {"low": 0.0, "high": 0.5}}');
INSERT INTO "trial_params" VALUES(2,2,'model.dropout',4.75357153204958082781e-01,'{"name": "UniformDistribution", "attributes": {"low": 0.0, "high": 0.5}}');
CREATE TABLE trial_system_attributes (
	trial_system_attribute_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (trial_system_attribute_id), 
	UNIQUE (trial_id, "key"), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_user_attributes (
	trial_user_attribute_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (trial_user_attribute_id), 
	UNIQUE (trial_id, "key"), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_user_attributes" VALUES(1,1,'hparams_search','"optuna"');
INSERT INTO "trial_user_attributes" VALUES(2,1,'experiment','"digits_ffn"');
INSERT INTO "trial_user_attributes" VALUES(3,1,'task.optimizer.lr','"0.005"');
INSERT INTO "trial_user_attributes" VALUES(4,1,'task.optimizer.weight_decay','"0"');
INSERT INTO "trial_user_attributes" VALUES(5,1,'data.batch_size','"32"');
INSERT INTO "trial_user_attributes" VALUES(6,1,'trainer.max_epochs','"3"');
INSERT INTO "trial_user_attributes" VALUES(7,1,'logger','"csv"');
INSERT INTO "trial_user_attributes" VALUES(8,1,'extras.print_config','"False"');
INSERT INTO "trial_user_attributes" VALUES(9,1,'callbacks.rich_progress_bar','"null"');
INSERT INTO "trial_user_attributes" VALUES(10,2,'hparams_search','"optuna"');
INSERT INTO "trial_user_attributes" VALUES(11,2,'experiment','"digits_ffn"');
INSERT INTO "trial_user_attributes" VALUES(12,2,'task.optimizer.lr','"0.005"');
INSERT INTO "trial_user_attributes" VALUES(13,2,'task.optimizer.weight_decay','"0"');
INSERT INTO "trial_user_attributes" VALUES(14,2,'data.batch_size','"32"');
INSERT INTO "trial_user_attributes" VALUES(15,2,'trainer.max_epochs','"3"');
INSERT INTO "trial_user_attributes" VALUES(16,2,'logger','"csv"');
INSERT INTO "trial_user_attributes" VALUES(17,2,'extras.print_config','"False"');
INSERT INTO "trial_user_attributes" VALUES(18,2,'callbacks.rich_progress_bar','"null"');
CREATE TABLE trial_values (
	trial_value_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	value FLOAT NOT NULL, 
	PRIMARY KEY (trial_value_id), 
	UNIQUE (trial_id, objective), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_values" VALUES(1,1,0,9.55555558204650878906e-01);
INSERT INTO "trial_values" VALUES(2,2,0,9.40740764141082763671e-01);
CREATE TABLE trials (
	trial_id INTEGER NOT NULL, 
	number INTEGER, 
	study_id INTEGER, 
	state VARCHAR(8) NOT NULL, 
	datetime_start DATETIME, 
	datetime_complete DATETIME, 
	PRIMARY KEY (trial_id), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "trials" VALUES(1,0,1,'COMPLETE','2026-12-05 12:23:56.347005','2026-12-05 12:24:00.432567');
INSERT INTO "trials" VALUES(2,1,1,'COMPLETE','2026-12-05 12:24:00.439903','2026-12-05 12:24:01.138438');
CREATE TABLE version_info (
	version_info_id INTEGER NOT NULL, 
	schema_version INTEGER, 
	library_version VARCHAR(256), 
	PRIMARY KEY (version_info_id), 
	CHECK (version_info_id=1)
);
INSERT INTO "version_info" VALUES(1,12,'2.10.1');
CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);
COMMIT;
