import type { Kysely, Migration } from "kysely";
import { addSerialId, type DialectName } from "../dialect.js";

/** The tables of DESIGN §6. Times are epoch milliseconds; JSON is stored as text. */
export function initialMigration(dialect: DialectName): Migration {
  return {
    // Migrations see the database before it has our schema, so it is untyped here.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("projects")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("root_path", "text", (c) => c.notNull().unique())
        .addColumn("next_task_number", "integer", (c) => c.notNull().defaultTo(1))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("tasks")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
        .addColumn("number", "integer", (c) => c.notNull())
        .addColumn("title", "text", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("labels", "text", (c) => c.notNull())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("source_ref", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("pipeline_name", "text")
        .addColumn("agent", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addUniqueConstraint("tasks_project_number", ["project_id", "number"])
        .execute();
      await db.schema.createIndex("tasks_status").on("tasks").column("status").execute();

      // Definitions are shared by hash: big pipelines' text is stored once, and the hot
      // pipelines row (its version changes on every job event) stays small.
      await db.schema
        .createTable("pipeline_definitions")
        .addColumn("hash", "text", (c) => c.primaryKey())
        .addColumn("definition", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("pipelines")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
        .addColumn("task_id", "text", (c) => c.notNull().references("tasks.id"))
        .addColumn("task_number", "integer", (c) => c.notNull())
        .addColumn("run", "integer", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("definition_hash", "text", (c) =>
          c.notNull().references("pipeline_definitions.hash"),
        )
        .addColumn("branch", "text")
        .addColumn("worktree_path", "text")
        .addColumn("base_commit", "text")
        .addColumn("route", "text")
        .addColumn("version", "integer", (c) => c.notNull())
        .addColumn("reason", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("started_at", "bigint")
        .addColumn("finished_at", "bigint")
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addUniqueConstraint("pipelines_task_run", ["task_id", "run"])
        .execute();
      await db.schema.createIndex("pipelines_status").on("pipelines").column("status").execute();

      await db.schema
        .createTable("jobs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("pipeline_id", "text", (c) => c.notNull().references("pipelines.id"))
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("stage_id", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("parent_job_id", "text")
        .addColumn("member", "text")
        .addColumn("trigger", "text", (c) => c.notNull())
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("fix_round", "integer", (c) => c.notNull())
        .addColumn("agent", "text")
        .addColumn("model", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("not_before", "bigint")
        .addColumn("routed_from", "text")
        .addColumn("context", "text", (c) => c.notNull())
        .addColumn("token_hash", "text", (c) => c.notNull())
        .addColumn("lease_token", "text")
        .addColumn("lease_holder", "text")
        .addColumn("lease_expires_at", "bigint")
        .addColumn("session_id", "text")
        .addColumn("exit_code", "integer")
        .addColumn("signal", "text")
        .addColumn("error_class", "text")
        .addColumn("error", "text")
        .addColumn("fingerprints", "text", (c) => c.notNull())
        .addColumn("failures", "text", (c) => c.notNull())
        .addColumn("tokens_in", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("tokens_out", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("cache_read_tokens", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("cache_write_tokens", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("reset_at", "bigint")
        .addColumn("cost_usd", "double precision", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("started_at", "bigint")
        .addColumn("finished_at", "bigint")
        .addUniqueConstraint("jobs_pipeline_seq", ["pipeline_id", "seq"])
        .execute();
      await db.schema.createIndex("jobs_status").on("jobs").column("status").execute();
      // The engine reads a pipeline's open jobs on every pass.
      await db.schema
        .createIndex("jobs_pipeline_status")
        .on("jobs")
        .columns(["pipeline_id", "status"])
        .execute();
      await db.schema.createIndex("jobs_lease_holder").on("jobs").column("lease_holder").execute();

      await db.schema
        .createTable("job_deps")
        .addColumn("job_id", "text", (c) => c.notNull().references("jobs.id"))
        .addColumn("depends_on", "text", (c) => c.notNull().references("jobs.id"))
        .addColumn("condition", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("job_deps_pk", ["job_id", "depends_on"])
        .execute();

      await db.schema
        .createTable("sessions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("job_id", "text", (c) => c.notNull().references("jobs.id"))
        .addColumn("pipeline_id", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("runtime", "text", (c) => c.notNull())
        .addColumn("host", "text", (c) => c.notNull())
        .addColumn("dir", "text", (c) => c.notNull())
        .addColumn("log_path", "text", (c) => c.notNull())
        .addColumn("pid", "integer")
        .addColumn("pid_start_time", "text")
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("started_at", "bigint", (c) => c.notNull())
        .addColumn("last_output_at", "bigint")
        .addColumn("steered_at", "bigint")
        .addColumn("wrapup_at", "bigint")
        .addColumn("exited_at", "bigint")
        .addColumn("exit_code", "integer")
        .addColumn("signal", "text")
        .addColumn("human_ms", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("human_since", "bigint")
        .addColumn("agent_idle_at", "bigint")
        .addColumn("agent_active_at", "bigint")
        .addColumn("agent_session_id", "text")
        .execute();
      await db.schema.createIndex("sessions_job").on("sessions").column("job_id").execute();

      await addSerialId(dialect, db.schema.createTable("gate_results"))
        .addColumn("job_id", "text", (c) => c.notNull().references("jobs.id"))
        .addColumn("pipeline_id", "text", (c) => c.notNull())
        .addColumn("stage_id", "text", (c) => c.notNull())
        .addColumn("gate", "text", (c) => c.notNull())
        .addColumn("passed", "integer", (c) => c.notNull())
        .addColumn("exit_code", "integer")
        .addColumn("autofixed", "integer", (c) => c.notNull())
        .addColumn("output_tail", "text", (c) => c.notNull())
        .addColumn("fingerprint", "text")
        .addColumn("duration_ms", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("gate_results_pipeline")
        .on("gate_results")
        .column("pipeline_id")
        .execute();

      await db.schema
        .createTable("artifacts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("job_id", "text", (c) => c.notNull().references("jobs.id"))
        .addColumn("pipeline_id", "text", (c) => c.notNull())
        .addColumn("stage_id", "text", (c) => c.notNull())
        .addColumn("path", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("sha256", "text", (c) => c.notNull())
        .addColumn("size", "bigint", (c) => c.notNull())
        .addColumn("content", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("artifacts_pipeline")
        .on("artifacts")
        .column("pipeline_id")
        .execute();

      await db.schema
        .createTable("artifact_consumption")
        .addColumn("artifact_id", "text", (c) => c.notNull().references("artifacts.id"))
        .addColumn("job_id", "text", (c) => c.notNull().references("jobs.id"))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("artifact_consumption_pk", ["artifact_id", "job_id"])
        .execute();

      await addSerialId(dialect, db.schema.createTable("events"))
        .addColumn("at", "bigint", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("project_id", "text")
        .addColumn("task_number", "integer")
        .addColumn("pipeline_id", "text")
        .addColumn("job_id", "text")
        .addColumn("data", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("events_pipeline").on("events").column("pipeline_id").execute();

      await addSerialId(dialect, db.schema.createTable("webhook_deliveries"))
        .addColumn("delivery_id", "text", (c) => c.unique())
        .addColumn("event_type", "text", (c) => c.notNull())
        .addColumn("action", "text")
        .addColumn("payload_hash", "text", (c) => c.notNull())
        .addColumn("repo", "text", (c) => c.notNull())
        .addColumn("processed_at", "bigint")
        .addColumn("error", "text")
        .addColumn("retry_count", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("webhook_deliveries_hash")
        .on("webhook_deliveries")
        .column("payload_hash")
        .execute();

      await db.schema
        .createTable("settings")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("agent_pauses")
        .addColumn("agent", "text", (c) => c.primaryKey())
        .addColumn("until", "bigint", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("job_id", "text")
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("schedules")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("cron", "text", (c) => c.notNull())
        .addColumn("task_title", "text", (c) => c.notNull())
        .addColumn("task_body", "text", (c) => c.notNull())
        .addColumn("labels", "text", (c) => c.notNull())
        .addColumn("enabled", "integer", (c) => c.notNull())
        .addColumn("last_run_at", "bigint")
        .addColumn("next_run_at", "bigint")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        "schedules",
        "agent_pauses",
        "settings",
        "webhook_deliveries",
        "events",
        "artifact_consumption",
        "artifacts",
        "gate_results",
        "sessions",
        "job_deps",
        "jobs",
        "pipelines",
        "pipeline_definitions",
        "tasks",
        "projects",
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
