-- AlterTable
ALTER TABLE "result" ADD COLUMN     "compliance" JSONB;

-- AlterTable
ALTER TABLE "run" ADD COLUMN     "compliance" JSONB;
