-- History: failure signatures and their aliases, per image × cell tracks, regressions, result
-- columns history filters on, and console search.
-- pg_trgm (a trusted extension, shipped with PostgreSQL) backs the console's substring search.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- AlterTable
ALTER TABLE "result" ADD COLUMN     "run_id" UUID,
ADD COLUMN     "backend" TEXT,
ADD COLUMN     "cell_key" TEXT,
ADD COLUMN     "image_id" UUID,
ADD COLUMN     "previous_result_id" UUID,
ADD COLUMN     "recorded_at" TIMESTAMP(3),
ADD COLUMN     "signature_id" UUID,
ADD COLUMN     "transition" TEXT,
ADD COLUMN     "vendor_id" UUID;

-- Backfill: existing results take their cell's and run's values, then the columns are required.
UPDATE "result" r SET "run_id" = c."run_id", "backend" = c."backend", "cell_key" = c."key", "image_id" = c."image_id", "vendor_id" = ru."vendor_id"
FROM "cell" c JOIN "run" ru ON ru."id" = c."run_id" WHERE c."id" = r."cell_id";
ALTER TABLE "result" ALTER COLUMN "run_id" SET NOT NULL,
ALTER COLUMN "backend" SET NOT NULL,
ALTER COLUMN "cell_key" SET NOT NULL,
ALTER COLUMN "image_id" SET NOT NULL,
ALTER COLUMN "vendor_id" SET NOT NULL;

-- AlterTable
ALTER TABLE "run" ADD COLUMN     "regression_id" UUID;

-- CreateTable
CREATE TABLE "failure_signature" (
    "id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "failure_class" TEXT NOT NULL,
    "stage" TEXT NOT NULL,
    "occurrences" INTEGER NOT NULL DEFAULT 0,
    "first_seen_at" TIMESTAMP(3) NOT NULL,
    "last_seen_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "failure_signature_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "signature_stat" (
    "signature_id" UUID NOT NULL,
    "vendor_id" UUID NOT NULL,
    "axis" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "occurrences" INTEGER NOT NULL,
    "first_seen_at" TIMESTAMP(3) NOT NULL,
    "last_seen_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "signature_stat_pkey" PRIMARY KEY ("signature_id","axis","value","vendor_id")
);

-- CreateTable
CREATE TABLE "signature_alias" (
    "title_key" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "join_key" TEXT NOT NULL,
    "signature_id" UUID NOT NULL,

    CONSTRAINT "signature_alias_pkey" PRIMARY KEY ("title_key")
);

-- CreateTable
CREATE TABLE "cell_track" (
    "image_id" UUID NOT NULL,
    "cell_key" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "boots" INTEGER NOT NULL DEFAULT 0,
    "passes" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "flaky_failures" INTEGER NOT NULL DEFAULT 0,
    "last_outcome" TEXT,
    "last_result_id" UUID,
    "last_run_id" UUID,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cell_track_pkey" PRIMARY KEY ("image_id","cell_key")
);

-- CreateTable
CREATE TABLE "regression" (
    "id" UUID NOT NULL,
    "vendor_id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "cell_key" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "basis" TEXT NOT NULL,
    "signature_id" UUID,
    "opened_run_id" UUID NOT NULL,
    "opened_result_id" UUID NOT NULL,
    "previous_result_id" UUID NOT NULL,
    "nightly_date" TEXT,
    "checks_requested" INTEGER NOT NULL,
    "checks_done" INTEGER NOT NULL DEFAULT 0,
    "checks_failed" INTEGER NOT NULL DEFAULT 0,
    "last_run_id" UUID NOT NULL,
    "closed_run_id" UUID,
    "opened_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closed_at" TIMESTAMP(3),

    CONSTRAINT "regression_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "failure_signature_last_seen_at_idx" ON "failure_signature"("last_seen_at" DESC);

-- CreateIndex
CREATE INDEX "signature_stat_vendor_id_axis_last_seen_at_idx" ON "signature_stat"("vendor_id", "axis", "last_seen_at" DESC);

-- CreateIndex
CREATE INDEX "signature_alias_signature_id_idx" ON "signature_alias"("signature_id");

-- CreateIndex
CREATE INDEX "signature_alias_join_key_idx" ON "signature_alias"("join_key");

-- CreateIndex
CREATE INDEX "regression_image_id_cell_key_idx" ON "regression"("image_id", "cell_key");

-- CreateIndex
CREATE INDEX "regression_vendor_id_opened_at_idx" ON "regression"("vendor_id", "opened_at" DESC);

-- CreateIndex
CREATE INDEX "regression_nightly_date_idx" ON "regression"("nightly_date");

-- CreateIndex
CREATE INDEX "console_chunk_text_trgm_idx" ON "console_chunk" USING GIN ("text" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "image_vendor_id_name_idx" ON "image"("vendor_id", "name");

-- CreateIndex
CREATE INDEX "result_created_at_id_idx" ON "result"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "result_vendor_id_created_at_idx" ON "result"("vendor_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "result_signature_id_created_at_idx" ON "result"("signature_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "result_image_id_cell_key_created_at_idx" ON "result"("image_id", "cell_key", "created_at" DESC);

-- CreateIndex
CREATE INDEX "result_failure_class_created_at_idx" ON "result"("failure_class", "created_at" DESC);

-- CreateIndex
CREATE INDEX "run_regression_id_idx" ON "run"("regression_id");

-- AddForeignKey
ALTER TABLE "run" ADD CONSTRAINT "run_regression_id_fkey" FOREIGN KEY ("regression_id") REFERENCES "regression"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "result" ADD CONSTRAINT "result_signature_id_fkey" FOREIGN KEY ("signature_id") REFERENCES "failure_signature"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "signature_alias" ADD CONSTRAINT "signature_alias_signature_id_fkey" FOREIGN KEY ("signature_id") REFERENCES "failure_signature"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cell_track" ADD CONSTRAINT "cell_track_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "image"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "regression" ADD CONSTRAINT "regression_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "image"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "regression" ADD CONSTRAINT "regression_signature_id_fkey" FOREIGN KEY ("signature_id") REFERENCES "failure_signature"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "signature_stat" ADD CONSTRAINT "signature_stat_signature_id_fkey" FOREIGN KEY ("signature_id") REFERENCES "failure_signature"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "nightly_stat" (
    "night" TEXT NOT NULL,
    "vendor_id" UUID NOT NULL,
    "backend" TEXT NOT NULL,
    "total" INTEGER NOT NULL,
    "passed" INTEGER NOT NULL,

    CONSTRAINT "nightly_stat_pkey" PRIMARY KEY ("night","vendor_id","backend")
);

-- CreateTable
CREATE TABLE "nightly_stage_stat" (
    "night" TEXT NOT NULL,
    "vendor_id" UUID NOT NULL,
    "stage" TEXT NOT NULL,
    "boots" INTEGER NOT NULL,
    "total_ms" BIGINT NOT NULL,

    CONSTRAINT "nightly_stage_stat_pkey" PRIMARY KEY ("night","vendor_id","stage")
);

-- CreateIndex
CREATE INDEX "regression_opened_at_id_idx" ON "regression"("opened_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "result_outcome_created_at_idx" ON "result"("outcome", "created_at" DESC);

-- CreateIndex
CREATE INDEX "run_nightly_date_idx" ON "run"("nightly_date");

-- CreateIndex
CREATE INDEX "result_run_id_idx" ON "result"("run_id");

-- Search filters on platform axes inside the cell key (split_part) together with the backend and
-- the outcome; without joint statistics the planner guesses them 100x too rare and sorts every
-- match instead of walking the newest results. (Prisma's schema does not model statistics.)
CREATE STATISTICS "result_platform_stats" (mcv) ON "backend", "outcome", (split_part("cell_key", '/', 2)), (split_part("cell_key", '/', 3)), (split_part("cell_key", '/', 4)) FROM "result";
