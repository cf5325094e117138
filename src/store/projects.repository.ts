import type { Project } from "../core/records.js";
import type { Db } from "./db.js";
import type { ProjectRow } from "./projects.table.js";

function toProject(row: ProjectRow): Project {
  return { id: row.id, name: row.name, rootPath: row.root_path, createdAt: row.created_at };
}

export async function findProjectByRoot(db: Db, rootPath: string): Promise<Project | undefined> {
  const row = await db
    .selectFrom("projects")
    .selectAll()
    .where("root_path", "=", rootPath)
    .executeTakeFirst();
  return row === undefined ? undefined : toProject(row);
}

export async function findProjectByName(db: Db, name: string): Promise<Project | undefined> {
  const row = await db
    .selectFrom("projects")
    .selectAll()
    .where("name", "=", name)
    .executeTakeFirst();
  return row === undefined ? undefined : toProject(row);
}

export async function getProjectById(db: Db, id: string): Promise<Project | undefined> {
  const row = await db.selectFrom("projects").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toProject(row);
}

export async function listProjects(db: Db): Promise<Project[]> {
  const rows = await db.selectFrom("projects").selectAll().orderBy("created_at").execute();
  return rows.map(toProject);
}

export async function insertProject(
  db: Db,
  project: { id: string; name: string; rootPath: string; now: number },
): Promise<Project> {
  await db
    .insertInto("projects")
    .values({
      id: project.id,
      name: project.name,
      root_path: project.rootPath,
      next_task_number: 1,
      created_at: project.now,
    })
    .execute();
  return { id: project.id, name: project.name, rootPath: project.rootPath, createdAt: project.now };
}

/** Hands out the project's next task number. Call inside a transaction. */
export async function takeTaskNumber(db: Db, projectId: string): Promise<number> {
  const row = await db
    .updateTable("projects")
    .set((eb) => ({ next_task_number: eb("next_task_number", "+", 1) }))
    .where("id", "=", projectId)
    .returning("next_task_number")
    .executeTakeFirstOrThrow();
  return row.next_task_number - 1;
}
