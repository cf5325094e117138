import type { Kysely, Transaction } from "kysely";
import type { ArtifactConsumptionTable, ArtifactsTable } from "./artifacts.table.js";
import type { EventsTable } from "./events.table.js";
import type { GateResultsTable } from "./gate-results.table.js";
import type { JobDepsTable, JobsTable } from "./jobs.table.js";
import type {
  AgentPausesTable,
  SchedulesTable,
  SettingsTable,
  WebhookDeliveriesTable,
} from "./misc.table.js";
import type { PipelineDefinitionsTable, PipelinesTable } from "./pipelines.table.js";
import type { ProjectsTable } from "./projects.table.js";
import type { SessionsTable } from "./sessions.table.js";
import type { TasksTable } from "./tasks.table.js";

export interface Database {
  projects: ProjectsTable;
  tasks: TasksTable;
  pipeline_definitions: PipelineDefinitionsTable;
  pipelines: PipelinesTable;
  jobs: JobsTable;
  job_deps: JobDepsTable;
  sessions: SessionsTable;
  gate_results: GateResultsTable;
  artifacts: ArtifactsTable;
  artifact_consumption: ArtifactConsumptionTable;
  events: EventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  settings: SettingsTable;
  agent_pauses: AgentPausesTable;
  schedules: SchedulesTable;
}

/** Repositories take either the database or a transaction. */
export type Db = Kysely<Database> | Transaction<Database>;
