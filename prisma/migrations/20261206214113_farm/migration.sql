/*
  Warnings:

  - A unique constraint covering the columns `[image_id,nightly_date]` on the table `run` will be added. If there are existing duplicate values, this will fail.

*/
-- AlterTable
ALTER TABLE "cell" ADD COLUMN     "capability" TEXT NOT NULL DEFAULT 'qemu-tcg:aarch64';

-- AlterTable
ALTER TABLE "image" ADD COLUMN     "nightly_matrix" JSONB;

-- AlterTable
ALTER TABLE "run" ADD COLUMN     "nightly_date" TEXT;

-- CreateTable
CREATE TABLE "api_token" (
    "id" UUID NOT NULL,
    "vendor_id" UUID NOT NULL,
    "role" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMP(3),
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "api_token_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "worker" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "capabilities" TEXT[],
    "probe" JSONB NOT NULL,
    "concurrency" INTEGER NOT NULL,
    "health" TEXT NOT NULL,
    "health_reason" TEXT,
    "health_changed_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "state" TEXT NOT NULL,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_heartbeat_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "worker_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_token_token_hash_key" ON "api_token"("token_hash");

-- CreateIndex
CREATE INDEX "api_token_vendor_id_idx" ON "api_token"("vendor_id");

-- CreateIndex
CREATE INDEX "cell_status_capability_idx" ON "cell"("status", "capability");

-- CreateIndex
CREATE UNIQUE INDEX "run_image_id_nightly_date_key" ON "run"("image_id", "nightly_date");

-- AddForeignKey
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_vendor_id_fkey" FOREIGN KEY ("vendor_id") REFERENCES "vendor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Backfill: a cell's capability is its backend and its guest architecture.
UPDATE "cell" SET "capability" = "backend" || ':' || ("profile"->>'arch');
