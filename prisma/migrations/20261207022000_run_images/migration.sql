-- A run holds one or more images; each cell is one image on one profile.
-- Existing runs keep their single image (position 0) and its compliance report.

-- CreateTable
CREATE TABLE "run_image" (
    "run_id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "compliance" JSONB,

    CONSTRAINT "run_image_pkey" PRIMARY KEY ("run_id","image_id")
);

INSERT INTO "run_image" ("run_id", "image_id", "position", "compliance")
SELECT "id", "image_id", 0, "compliance" FROM "run";

-- AlterTable: the cell's image, from its run
ALTER TABLE "cell" ADD COLUMN "image_id" UUID;
UPDATE "cell" SET "image_id" = "run"."image_id" FROM "run" WHERE "cell"."run_id" = "run"."id";
ALTER TABLE "cell" ALTER COLUMN "image_id" SET NOT NULL;

-- AlterTable: nightly runs keep their image as the nightly key; other runs do not need one
ALTER TABLE "run" ADD COLUMN "nightly_image_id" UUID;
UPDATE "run" SET "nightly_image_id" = "image_id" WHERE "nightly_date" IS NOT NULL;

-- DropForeignKey
ALTER TABLE "run" DROP CONSTRAINT "run_image_id_fkey";

-- DropIndex
DROP INDEX "cell_run_id_key_key";

-- DropIndex
DROP INDEX "run_image_id_idx";

-- DropIndex
DROP INDEX "run_image_id_nightly_date_key";

-- AlterTable
ALTER TABLE "run" DROP COLUMN "compliance",
DROP COLUMN "image_id";

-- CreateIndex
CREATE INDEX "run_image_image_id_idx" ON "run_image"("image_id");

-- CreateIndex
CREATE UNIQUE INDEX "run_image_run_id_position_key" ON "run_image"("run_id", "position");

-- CreateIndex
CREATE INDEX "cell_image_id_key_idx" ON "cell"("image_id", "key");

-- CreateIndex
CREATE UNIQUE INDEX "cell_run_id_image_id_key_key" ON "cell"("run_id", "image_id", "key");

-- CreateIndex
CREATE UNIQUE INDEX "run_nightly_image_id_nightly_date_key" ON "run"("nightly_image_id", "nightly_date");

-- AddForeignKey
ALTER TABLE "run_image" ADD CONSTRAINT "run_image_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_image" ADD CONSTRAINT "run_image_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "image"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cell" ADD CONSTRAINT "cell_run_id_image_id_fkey" FOREIGN KEY ("run_id", "image_id") REFERENCES "run_image"("run_id", "image_id") ON DELETE CASCADE ON UPDATE CASCADE;
