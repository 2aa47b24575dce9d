"""The case's discussion: GET/POST /api/v1/cases/{id}/comments/. Verifiers,
the chair and members write; auditors read; party representatives and
monitors get 403, as for the case file itself."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.roles import HasRole
from commission import selectors, services
from commission.api.base import case_or_404, errors, valid
from commission.serializers import CommentInputSerializer, CommentSerializer
from config.schema import ErrorSerializer

DISCUSSION = [IsAuthenticated, HasRole(*selectors.DISCUSSION_WRITERS, safe_roles=selectors.DISCUSSION_READERS)]


class CaseCommentsApi(APIView):
    permission_classes = DISCUSSION
    throttle_scope = "comment"

    def get_throttles(self):
        # Posting is limited per person (COMMENT_RATE); reading is not.
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    def _case(self, request, pk):
        if not selectors.can_read_discussion(request.user):
            # Someone who also represents a party: the deliberation is never theirs to read.
            raise PermissionDenied("Your role does not allow this.")
        return case_or_404(request.user, pk)

    @extend_schema(
        operation_id="cases_comments_list",
        summary="The case's discussion, oldest first (verifiers, the chair, members, auditors)",
        description="Shown beside an open round: it never carries a ballot. Party representatives and monitors "
                    "are refused (403).",
        responses={200: CommentSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        case = self._case(request, pk)
        return Response(CommentSerializer(selectors.comment_list_for(request.user, case), many=True).data)

    @extend_schema(
        operation_id="cases_comments_create",
        summary="Add a comment, or a reply to one (verifiers, the chair, members)",
        description="Recorded in the trail (case.comment_posted, with the body); never edited or deleted. The "
                    "replied-to comment's author is notified (comment_reply), and each reader of the case named "
                    "as @username (comment_mention). 400 for a blank or too long body, or a parent from "
                    "another case.",
        request=CommentInputSerializer,
        responses={201: CommentSerializer, **errors(400, 401, 403, 404),
                   429: OpenApiResponse(response=ErrorSerializer, description="Too many comments (COMMENT_RATE).")},
    )
    def post(self, request, pk: int):
        case = self._case(request, pk)
        data = valid(CommentInputSerializer, request.data)
        comment = services.comment_post(actor=request.user, case=case, body=data["body"], parent=data["parent"])
        comment = selectors.comment_list_for(request.user, case).get(pk=comment.pk)
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
