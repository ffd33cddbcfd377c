/*
 * api — the HTTP contract of docs/ARCHITECTURE.md §2 without the HTTP
 * server, in three steps a request goes through in order: api_route.h
 * (which endpoint a method and path name), api_request.h (how a JSON body,
 * a path id or a query string becomes a store request, every problem
 * collected into a FastAPI-shaped 422 detail list), and api_render.h (how
 * a store reply becomes a status and a JSON body). api_reply.h is the
 * response all three fill and the error bodies they share.
 *
 * Nothing here does I/O or keeps state, so the server calls it from any
 * loop thread, the unit tests pin every error class, and the fuzz targets
 * feed it arbitrary bytes. The server, test_api and the fuzz targets use
 * all three steps and include this header; a part of the gateway that needs
 * one step includes that step's header.
 */
#ifndef HERALD_API_H
#define HERALD_API_H

#include "api_render.h"
#include "api_reply.h"
#include "api_request.h"
#include "api_route.h"

#endif
