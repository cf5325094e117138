import type { Task, TaskSource } from "../core/records.js";
import type { TaskStatus } from "../core/status.js";
import type { Db } from "./db.js";
import { isStringArray, parseJsonColumn } from "./json.js";
import type { TaskRow } from "./tasks.table.js";

function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    projectId: row.project_id,
    number: row.number,
    title: row.title,
    body: row.body,
    labels: parseJsonColumn(row.labels, `tasks.labels of task ${row.id}`, isStringArray),
    source: row.source as TaskSource,
    sourceRef: row.source_ref,
    status: row.status,
    pipelineName: row.pipeline_name,
    agent: row.agent,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type NewTask = Omit<Task, "createdAt" | "updatedAt"> & { now: number };

export async function insertTask(db: Db, task: NewTask): Promise<Task> {
  const row: TaskRow = {
    id: task.id,
    project_id: task.projectId,
    number: task.number,
    title: task.title,
    body: task.body,
    labels: JSON.stringify(task.labels),
    source: task.source,
    source_ref: task.sourceRef,
    status: task.status,
    pipeline_name: task.pipelineName,
    agent: task.agent,
    created_at: task.now,
    updated_at: task.now,
  };
  await db.insertInto("tasks").values(row).execute();
  return toTask(row);
}

export async function findTaskByNumber(
  db: Db,
  projectId: string,
  number: number,
): Promise<Task | undefined> {
  const row = await db
    .selectFrom("tasks")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("number", "=", number)
    .executeTakeFirst();
  return row === undefined ? undefined : toTask(row);
}

export async function getTaskById(db: Db, id: string): Promise<Task | undefined> {
  const row = await db.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toTask(row);
}

export async function listTasks(
  db: Db,
  filter: { projectId?: string; statuses?: readonly TaskStatus[] },
): Promise<Task[]> {
  let query = db.selectFrom("tasks").selectAll();
  if (filter.projectId !== undefined) {
    query = query.where("project_id", "=", filter.projectId);
  }
  if (filter.statuses !== undefined && filter.statuses.length > 0) {
    query = query.where("status", "in", filter.statuses);
  }
  const rows = await query.orderBy("project_id").orderBy("number").execute();
  return rows.map(toTask);
}

export async function setTaskStatus(
  db: Db,
  taskId: string,
  status: TaskStatus,
  now: number,
): Promise<void> {
  await db.updateTable("tasks").set({ status, updated_at: now }).where("id", "=", taskId).execute();
}

export async function listTasksByIds(db: Db, ids: readonly string[]): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    if (chunk.length > 0) {
      const rows = await db.selectFrom("tasks").selectAll().where("id", "in", chunk).execute();
      tasks.push(...rows.map(toTask));
    }
  }
  return tasks;
}
