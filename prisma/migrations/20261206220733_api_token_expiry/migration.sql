-- AlterTable
ALTER TABLE "api_token" ADD COLUMN     "expires_at" TIMESTAMP(3);
