/**
 * `runCached` on every dialect: a statement's SQL is compiled once per shape and reused with new
 * parameters, inside transactions too; a caller whose parameters are not what kysely binds gets
 * its statement built each time, never the reused text with misplaced values.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCached, setColumns } from "../../src/store/cached-query.js";
import type { Db } from "../../src/store/db.js";
import { DIALECTS, openTestStore, type TestStore } from "../helpers/store.js";

function insertSetting(db: Db, key: string, value: string, at: number) {
  return runCached(db, "test: insert setting", [key, value, at], () =>
    db.insertInto("settings").values({ key, value, updated_at: at }),
  );
}

async function settings(db: Db): Promise<{ key: string; value: string; updated_at: number }[]> {
  const rows = await db.selectFrom("settings").selectAll().orderBy("key").execute();
  return rows.map((r) => ({ key: r.key, value: r.value, updated_at: Number(r.updated_at) }));
}

for (const dialect of DIALECTS) {
  describe(`runCached on ${dialect}`, () => {
    let test: TestStore;
    beforeEach(async () => {
      test = await openTestStore(dialect);
    });
    afterEach(async () => {
      await test.cleanup();
    });

    it("reuses a statement's text with each call's own parameters", async () => {
      const db = test.store.db;
      await insertSetting(db, "a", '"one"', 1);
      await insertSetting(db, "b", '"two"', 2);
      await test.store.transaction(async (trx) => {
        await insertSetting(trx, "c", '"three"', 3);
      });
      expect(await settings(db)).toEqual([
        { key: "a", value: '"one"', updated_at: 1 },
        { key: "b", value: '"two"', updated_at: 2 },
        { key: "c", value: '"three"', updated_at: 3 },
      ]);
      const read = (keys: string[]) =>
        runCached(db, `test: settings by key ${keys.length}`, keys, () =>
          db.selectFrom("settings").select("value").where("key", "in", keys),
        );
      expect((await read(["a", "c"])).rows.map((r) => r.value).sort()).toEqual([
        '"one"',
        '"three"',
      ]);
      expect((await read(["b", "c"])).rows.map((r) => r.value).sort()).toEqual([
        '"three"',
        '"two"',
      ]);
      const updated = await runCached(db, "test: touch setting", [9, "b"], () =>
        db.updateTable("settings").set({ updated_at: 9 }).where("key", "=", "b"),
      );
      expect(updated.numAffectedRows).toBe(1n);
    });

    it("builds each time a statement whose parameters are not the ones kysely binds", async () => {
      const db = test.store.db;
      // Value and key swapped: reusing the text with this list would store them swapped.
      const wrong = (key: string, value: string, at: number) =>
        runCached(db, "test: insert setting, wrong order", [value, key, at], () =>
          db.insertInto("settings").values({ key, value, updated_at: at }),
        );
      await wrong("a", '"one"', 1);
      await wrong("b", '"two"', 2);
      expect(await settings(db)).toEqual([
        { key: "a", value: '"one"', updated_at: 1 },
        { key: "b", value: '"two"', updated_at: 2 },
      ]);
    });

    it("updates with setColumns: columns left undefined are neither set nor bound", async () => {
      const db = test.store.db;
      await insertSetting(db, "a", '"one"', 1);
      const update = (patch: { value?: string; updated_at?: number }) => {
        const set = setColumns(patch);
        return runCached(db, `test: update setting ${set.names}`, [...set.values, "a"], () =>
          db.updateTable("settings").set(patch).where("key", "=", "a"),
        );
      };
      await update({ value: undefined, updated_at: 2 });
      await update({ value: undefined, updated_at: 3 });
      expect(await settings(db)).toEqual([{ key: "a", value: '"one"', updated_at: 3 }]);
      await update({ value: '"two"', updated_at: undefined });
      expect(await settings(db)).toEqual([{ key: "a", value: '"two"', updated_at: 3 }]);
    });
  });
}
